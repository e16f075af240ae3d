// Package web serves the box's LAN admin panel: the HTTPS listener with its
// generated certificate, and the handlers behind it.
//
// The listener is bound by Listen, before the service reports ready, and
// served by Run until its context ends; shutdown drains requests for at most
// ShutdownBudget.
package web
