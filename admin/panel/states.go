package panel

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/content"
)

// The publication states the content manager shows and filters by (see
// content.ReadOptions.State): a document is a draft until published;
// published while its draft equals its published version; modified once
// the draft has changed since.
const (
	stateDraft     = content.StateDraft
	statePublished = content.StatePublished
	stateModified  = content.StateModified
)

// versionsPageSize is the page size of publishedVersions, the content
// API's largest: more than the ids of a list page.
const versionsPageSize = 100

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
	q.Set("pagination[pageSize]", strconv.Itoa(versionsPageSize))
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
