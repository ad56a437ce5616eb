package panel

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/content"
)

// The publication states the content manager shows. A document is a draft
// until published; published while its draft equals its published version;
// modified once the draft has changed since. Publishing copies the draft's
// updatedAt to the published version, so equal updatedAt values mean an
// unchanged draft.
const (
	stateDraft     = "draft"
	statePublished = "published"
	stateModified  = "modified"
)

// maxScanned bounds how many documents a list filtered by state reads.
const maxScanned = 5000

// scanPageSize is the page size of the scans, the content API's largest.
const scanPageSize = 100

func validState(s string) bool {
	return s == stateDraft || s == statePublished || s == stateModified
}

// version is what the state of a document needs of its published version.
type version struct {
	updatedAt   string
	publishedAt string
}

func versionOf(d map[string]any) version {
	return version{updatedAt: str(d["updatedAt"]), publishedAt: str(d["publishedAt"])}
}

// versionFields asks only for the timestamps of published versions.
func versionFields(q url.Values) {
	q.Set("status", "published")
	q.Set("fields[0]", "updatedAt")
	q.Set("fields[1]", "publishedAt")
}

// stateOf is the state of a draft given the published versions by
// documentId.
func stateOf(draft map[string]any, published map[string]version) string {
	v, ok := published[str(draft["documentId"])]
	switch {
	case !ok:
		return stateDraft
	case v.updatedAt == str(draft["updatedAt"]):
		return statePublished
	}
	return stateModified
}

// publishedVersions returns the published version of each of ids that has
// one.
func (p *Panel) publishedVersions(c *fiber.Ctx, t *content.Type,
	ids []string) (map[string]version, error) {
	q := url.Values{}
	versionFields(q)
	q.Set("pagination[pageSize]", strconv.Itoa(scanPageSize))
	for i, id := range ids {
		q.Set(fmt.Sprintf("filters[documentId][$in][%d]", i), id)
	}
	list, err := p.content.Find(c.UserContext(), actor(c), t, q.Encode(),
		content.ReadOptions{Admin: true})
	if err != nil {
		return nil, err
	}
	docs, err := decodeDocs(list.Data)
	if err != nil {
		return nil, err
	}
	out := make(map[string]version, len(docs))
	for _, d := range docs {
		out[str(d["documentId"])] = versionOf(d)
	}
	return out, nil
}

// scan pages through the documents a query selects, up to maxScanned, and
// calls fn with each.
func (p *Panel) scan(c *fiber.Ctx, t *content.Type, q url.Values, fn func(map[string]any)) error {
	q.Set("pagination[pageSize]", strconv.Itoa(scanPageSize))
	for page := 1; page*scanPageSize <= maxScanned; page++ {
		q.Set("pagination[page]", strconv.Itoa(page))
		list, err := p.content.Find(c.UserContext(), actor(c), t, q.Encode(),
			content.ReadOptions{Admin: true})
		if err != nil {
			return err
		}
		docs, err := decodeDocs(list.Data)
		if err != nil {
			return err
		}
		for _, d := range docs {
			fn(d)
		}
		if len(docs) < scanPageSize {
			return nil
		}
	}
	return nil
}

// scanEntries lists the documents in one publication state: it reads the
// published versions' updatedAt, then scans the drafts in the list's order
// and keeps those in the state, returning the requested page of them and
// their count. Lists beyond maxScanned documents are filtered on their
// first maxScanned.
//
// TODO: filter by publication state in the content service's query, so
// that large types are paged by the database; then drop the scan.
func (p *Panel) scanEntries(c *fiber.Ctx, t *content.Type,
	lq listQuery) ([]listedEntry, int64, error) {
	published := map[string]version{}
	pq := url.Values{}
	versionFields(pq)
	pq.Set("sort", "id")
	err := p.scan(c, t, pq, func(d map[string]any) {
		published[str(d["documentId"])] = versionOf(d)
	})
	if err != nil {
		return nil, 0, err
	}

	var out []listedEntry
	var total int64
	from := int64(lq.page-1) * listPageSize
	err = p.scan(c, t, baseQuery(lq), func(d map[string]any) {
		state := stateOf(d, published)
		if state != lq.status {
			return
		}
		if total >= from && total < from+listPageSize {
			out = append(out, listedEntry{doc: d, state: state})
		}
		total++
	})
	return out, total, err
}
