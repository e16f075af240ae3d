package web

// attendanceRoutes serves daily attendance: first in and last out per employee.
func (p *Panel) attendanceRoutes() []route {
	return nil
}
