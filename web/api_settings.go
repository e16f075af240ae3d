package web

// settingRoutes serves settings the panel may change.
func (p *Panel) settingRoutes() []route {
	return nil
}
