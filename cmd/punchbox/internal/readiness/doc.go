// Package readiness judges whether a box is ready for production: the
// report behind the panel's readiness page. Each check says what it found
// and, when something is not ready, what to do about it. The checks only
// read: they change nothing on the box.
package readiness
