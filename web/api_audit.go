package web

// auditRoutes serves the audit log.
func (p *Panel) auditRoutes() []route {
	return nil
}
