package content

import (
	"context"
	"fmt"
)

// SyncIndexes creates every index the content types ask for that is
// missing, such as the unique indexes of unique attributes. Content types
// create their indexes when they are saved; rows copied into a database by
// other means (herald import) need this afterwards. It returns ECONFLICT
// when stored entries break a unique attribute.
func (s *Service) SyncIndexes(ctx context.Context) error {
	for _, t := range s.Types() {
		if err := s.syncIndexes(ctx, s.db.Write, nil, t); err != nil {
			return wrapOp(fmt.Sprintf("create the indexes of %s", t.UID), err)
		}
	}
	return nil
}
