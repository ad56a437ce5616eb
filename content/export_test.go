package content

// ListenerPID returns the backend process id of a PostgreSQL bus's
// listening connection, 0 while it is disconnected.
func ListenerPID(b Bus) uint32 {
	if pb, ok := b.(*PGBus); ok {
		return pb.pid.Load()
	}
	return 0
}

// SetQueryHook makes fn see each query of populated reads (nil stops it).
func SetQueryHook(s *Service, fn func(string)) {
	if fn == nil {
		s.queryHook.Store(nil)
		return
	}
	s.queryHook.Store(&fn)
}

// QueuedWrites counts the callers of Transact waiting for a transaction.
func QueuedWrites(db *DB) int {
	db.group.mu.Lock()
	defer db.group.mu.Unlock()
	return len(db.group.queue)
}

// SharedTransactions counts the transactions Transact ran for more than
// one caller.
func SharedTransactions(db *DB) int {
	db.group.mu.Lock()
	defer db.group.mu.Unlock()
	return db.group.shared
}
