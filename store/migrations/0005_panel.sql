-- Reserved for a change in progress; a no-op until it is filled in.
SELECT 1;
