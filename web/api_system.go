package web

// systemRoutes serves system status and the production-readiness report.
func (p *Panel) systemRoutes() []route {
	return nil
}
