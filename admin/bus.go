package admin

import "github.com/herald-cms/herald/content"

// watchAccess empties the role and grant caches whenever any instance
// sharing the database says roles or permissions changed (or, after a lost
// connection, that anything may have). Users, sessions and API tokens are
// read from the database on every request, so they need no notice.
func (s *Service) watchAccess() {
	s.db.Bus.Subscribe(content.TopicAccess, func(string) { s.forgetAccess() })
}
