-- Searches by employee and terminal together read the employee's punches
-- in time order and keep one terminal's: with the terminal in the index,
-- the rows of other terminals are skipped without reading them.
DROP INDEX punches_pin_time;
CREATE INDEX punches_pin_time ON punches (pin, local_time, terminal_id);
