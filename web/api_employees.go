package web

// employeeRoutes serves employees: CRUD and CSV import.
func (p *Panel) employeeRoutes() []route {
	return nil
}
