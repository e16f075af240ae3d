package web

// syncRoutes serves the link to central and the backlog.
func (p *Panel) syncRoutes() []route {
	return nil
}
