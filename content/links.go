package content

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content/schema"
)

// Relations and media attributes are links kept outside an entry's data
// (migration 00006): entry_relations rows on the rows of the owning side
// (the attribute without mappedBy), entry_files rows for media. A reader
// sees each target document's version in its own state: drafts see
// drafts, published versions see published ones; targets of types without
// draft and publish are always their one published row.
//
// Writes from the owning side change the written row (the draft of a
// draft-and-publish document), and publishing copies the draft's links to
// the published version. Writes from the other side (mappedBy) change the
// owning documents' rows in both versions at once: a relation set from
// there has no version of its own to wait for.

// maxLinks bounds the links one write may name for one attribute.
const maxLinks = 1000

// linkOps is one attribute's change: set replaces the whole list (when
// replace is set), then disconnect removes and connect appends. Relation
// targets are documentIds; media targets are file ids.
type linkOps struct {
	attr       *schema.Attribute
	replace    bool
	set        []string
	connect    []string
	disconnect []string
	// places positions connected targets (by index in connect) that said
	// where they go, as Strapi's connect[i].position does.
	places map[int]place
}

// place is where a connected target goes in a list: before or after
// another target, or at the start or end (the default).
type place struct {
	before, after string
	start         bool
}

// parseLinks reads the link attributes of input into their changes,
// resolving media documentIds to ids and checking that every target
// exists (and, for media, is of an allowed type).
func (s *Service) parseLinks(tx *gorm.DB, t *Type, input map[string]any) ([]linkOps, error) {
	var (
		out    []linkOps
		fields []FieldError
	)
	for _, a := range t.Schema.Attributes {
		v, ok := input[a.Name]
		if !a.IsLink() || !ok {
			continue
		}
		ops, err := parseLinkValue(a, v)
		if err == nil {
			err = s.checkTargets(tx, a, &ops)
		}
		if err != nil {
			fields = append(fields, FieldError{Path: []string{a.Name}, Message: err.Error(),
				Name: "ValidationError"})
			continue
		}
		out = append(out, ops)
	}
	if len(fields) > 0 {
		return nil, Invalid(fields[0].Message, fields...)
	}
	return out, nil
}

// parseLinkValue reads one attribute's value: a target, a list of targets
// (the new list), null (none), or, for relations, an object with connect,
// disconnect and set.
func parseLinkValue(a *schema.Attribute, v any) (linkOps, error) {
	ops := linkOps{attr: a}
	if m, isMap := v.(map[string]any); isMap && a.Type == schema.TypeRelation && isOpsObject(m) {
		for key, list := range m {
			ids, err := linkTargets(a, list)
			if err != nil {
				return ops, fmt.Errorf("%s: %s", key, err.Error())
			}
			switch key {
			case "set":
				ops.replace, ops.set = true, ids
			case "connect":
				ops.connect = ids
				if ops.places, err = connectPlaces(a, list); err != nil {
					return ops, err
				}
			case "disconnect":
				ops.disconnect = ids
			default:
				return ops, fmt.Errorf("%s takes connect, disconnect and set, not %s", a.Name, key)
			}
		}
	} else {
		ids, err := linkTargets(a, v)
		if err != nil {
			return ops, err
		}
		ops.replace, ops.set = true, ids
	}
	if !a.IsMany() && (len(ops.set) > 1 || len(ops.connect) > 1) {
		return ops, fmt.Errorf("%s holds one %s, not a list", a.Name, linkNoun(a))
	}
	return ops, nil
}

// connectPlaces reads the position of each connected target that has one:
// {"documentId": "x", "position": {"before": "y"}} (or after, start: true,
// end: true).
func connectPlaces(a *schema.Attribute, list any) (map[int]place, error) {
	items, ok := list.([]any)
	if !ok {
		items = []any{list}
	}
	var out map[int]place
	for i, it := range items {
		m, _ := it.(map[string]any)
		raw, has := m["position"]
		if !has {
			continue
		}
		pos, _ := raw.(map[string]any)
		var p place
		before, _ := pos["before"].(string)
		after, _ := pos["after"].(string)
		start, _ := pos["start"].(bool)
		end, _ := pos["end"].(bool)
		p.before, p.after, p.start = before, after, start
		n := 0
		for _, set := range []bool{before != "", after != "", start, end} {
			if set {
				n++
			}
		}
		if n != 1 || len(pos) != 1 {
			return nil, fmt.Errorf("%s: connect position takes one of before, after, start "+
				"or end", a.Name)
		}
		if out == nil {
			out = map[int]place{}
		}
		out[i] = p
	}
	return out, nil
}

// isOpsObject reports whether a relation value is {connect, disconnect,
// set} rather than one target written as {"documentId": ...}.
func isOpsObject(m map[string]any) bool {
	_, doc := m["documentId"]
	_, id := m["id"]
	return !doc && !id
}

func linkNoun(a *schema.Attribute) string {
	if a.Type == schema.TypeMedia {
		return "file"
	}
	return "document"
}

// linkTargets reads a target or a list of targets. Relations name
// documents by documentId ("abc" or {"documentId": "abc"}); media name
// files by id (12, "12" or {"id": 12}) or documentId.
func linkTargets(a *schema.Attribute, v any) ([]string, error) {
	var items []any
	switch x := v.(type) {
	case nil:
		return []string{}, nil
	case []any:
		items = x
	default:
		items = []any{x}
	}
	if len(items) > maxLinks {
		return nil, fmt.Errorf("%s takes at most %d %ss", a.Name, maxLinks, linkNoun(a))
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		id, err := linkTarget(a, it)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// linkTarget reads one target (see linkTargets). Media ids come back as
// "#<id>", documentIds as they are.
func linkTarget(a *schema.Attribute, v any) (string, error) {
	media := a.Type == schema.TypeMedia
	if m, ok := v.(map[string]any); ok {
		switch {
		case m["documentId"] != nil:
			v = m["documentId"]
		case media && m["id"] != nil:
			v = m["id"]
		default:
			return "", fmt.Errorf("%s: a %s is named by its documentId", a.Name, linkNoun(a))
		}
	}
	switch x := v.(type) {
	case string:
		if x == "" || len(x) > 64 {
			return "", fmt.Errorf("%s: %q is not a documentId", a.Name, x)
		}
		if media {
			if id, err := strconv.ParseInt(x, 10, 64); err == nil && id > 0 {
				return "#" + strconv.FormatInt(id, 10), nil
			}
		}
		return x, nil
	case json.Number, float64, int, int64:
		if !media {
			return "", fmt.Errorf("%s: documents are named by documentId, not by id", a.Name)
		}
		id, err := strconv.ParseInt(fmt.Sprint(x), 10, 64)
		if err != nil || id <= 0 {
			return "", fmt.Errorf("%s: %v is not a file id", a.Name, x)
		}
		return "#" + strconv.FormatInt(id, 10), nil
	}
	return "", fmt.Errorf("%s: expected a %s's documentId", a.Name, linkNoun(a))
}

// checkTargets checks that the documents or files set or connected exist,
// turning media targets into file ids.
func (s *Service) checkTargets(tx *gorm.DB, a *schema.Attribute, ops *linkOps) error {
	named := slices.Concat(ops.set, ops.connect)
	if a.Type == schema.TypeMedia {
		ids, err := s.resolveFiles(tx, a, named)
		if err != nil {
			return err
		}
		for _, list := range []*[]string{&ops.set, &ops.connect, &ops.disconnect} {
			for i, n := range *list {
				if id, ok := ids[n]; ok {
					(*list)[i] = id
				} else {
					(*list)[i] = strings.TrimPrefix(n, "#")
				}
			}
		}
		return nil
	}
	if len(named) == 0 {
		return nil
	}
	var found []string
	err := tx.Table("entries").Where("content_type = ? AND document_id IN ?", a.Target, named).
		Distinct("document_id").Pluck("document_id", &found).Error
	if err != nil {
		return fmt.Errorf("check relation targets: %w", err)
	}
	for _, id := range named {
		if !slices.Contains(found, id) {
			return fmt.Errorf("%s: %s has no document %s", a.Name, a.Target, id)
		}
	}
	return nil
}

// resolveFiles looks up the files named ("#id" or documentId) and returns
// each name's id, refusing missing files and files of a kind the
// attribute does not allow.
func (s *Service) resolveFiles(tx *gorm.DB, a *schema.Attribute, named []string) (map[string]string,
	error) {
	out := map[string]string{}
	if len(named) == 0 {
		return out, nil
	}
	var ids []int64
	var docs []string
	for _, n := range named {
		if rest, ok := strings.CutPrefix(n, "#"); ok {
			id, _ := strconv.ParseInt(rest, 10, 64)
			ids = append(ids, id)
		} else {
			docs = append(docs, n)
		}
	}
	var rows []FileRow
	q := tx.Select("id", "document_id", "name", "mime")
	switch {
	case len(ids) > 0 && len(docs) > 0:
		q = q.Where("id IN ? OR document_id IN ?", ids, docs)
	case len(ids) > 0:
		q = q.Where("id IN ?", ids)
	default:
		q = q.Where("document_id IN ?", docs)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("check files: %w", err)
	}
	for _, r := range rows {
		id := strconv.FormatInt(r.ID, 10)
		out["#"+id], out[r.DocumentID] = id, id
		if !mediaAllowed(a, r.Mime) {
			return nil, fmt.Errorf("%s accepts only %s; file %s is %s", a.Name,
				strings.Join(a.AllowedTypes, ", "), r.Name, r.Mime)
		}
	}
	for _, n := range named {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("%s: there is no file %s", a.Name, strings.TrimPrefix(n, "#"))
		}
	}
	return out, nil
}

// mediaAllowed reports whether a file of this MIME type fits the
// attribute's allowedTypes.
func mediaAllowed(a *schema.Attribute, mime string) bool {
	return len(a.AllowedTypes) == 0 || slices.Contains(a.AllowedTypes, MediaKind(mime))
}

// MediaKind is the allowedTypes kind (schema.MediaKinds) of a MIME type.
func MediaKind(mime string) string {
	switch {
	case strings.HasPrefix(mime, "image/"):
		return "images"
	case strings.HasPrefix(mime, "video/"):
		return "videos"
	case strings.HasPrefix(mime, "audio/"):
		return "audios"
	}
	return "files"
}

// apply computes the new list from the current one.
func (ops *linkOps) apply(cur []string) []string {
	next := slices.Clone(cur)
	if ops.replace {
		next = slices.Clone(ops.set)
	}
	next = slices.DeleteFunc(next, func(id string) bool { return slices.Contains(ops.disconnect, id) })
	for i, id := range ops.connect {
		if !ops.attr.IsMany() {
			next = next[:0]
		}
		p, placed := ops.places[i]
		if slices.Contains(next, id) {
			if !placed {
				continue
			}
			next = slices.DeleteFunc(next, func(x string) bool { return x == id })
		}
		at := len(next)
		switch {
		case p.start:
			at = 0
		case p.before != "":
			if j := slices.Index(next, p.before); j >= 0 {
				at = j
			}
		case p.after != "":
			if j := slices.Index(next, p.after); j >= 0 {
				at = j + 1
			}
		}
		next = slices.Insert(next, at, id)
	}
	return next
}

// exclusive reports whether a target may be linked by one owner only, in
// each state: the owning side of oneToOne and oneToMany relations.
func exclusive(a *schema.Attribute) bool {
	return a.Type == schema.TypeRelation && (a.Relation == schema.OneToOne ||
		a.Relation == schema.OneToMany)
}

// writeLinks applies the changes to a document whose written row is r
// (its draft, or its only row for types without draft and publish).
func (s *Service) writeLinks(tx *gorm.DB, t *Type, r *entryRow, changes []linkOps) error {
	for i := range changes {
		ops := &changes[i]
		var err error
		switch {
		case ops.attr.Type == schema.TypeMedia:
			err = s.writeFiles(tx, r.ID, ops)
		case ops.attr.IsInverse():
			err = s.writeOtherSide(tx, r.DocumentID, ops)
		default:
			err = s.writeRelation(tx, t, r, ops)
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", ops.attr.Name, err)
		}
	}
	return nil
}

// currentLinks reads a row's links for one attribute, in order.
func currentLinks(tx *gorm.DB, table, column string, rowID int64, field string) ([]string, error) {
	var cur []string
	err := tx.Table(table).Where("entry_id = ? AND field = ?", rowID, field).
		Order("position").Pluck(column, &cur).Error
	return cur, err
}

// replaceLinks writes a row's new list for one attribute.
func replaceLinks(tx *gorm.DB, table, column string, rowID int64, field string, next []string) error {
	err := tx.Exec("DELETE FROM "+table+" WHERE entry_id = ? AND field = ?", rowID, field).Error
	if err != nil || len(next) == 0 {
		return err
	}
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (entry_id, field, " + column + ", position) VALUES ")
	args := make([]any, 0, 4*len(next))
	for i, id := range next {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, ?, ?)")
		var target any = id
		if column == "file_id" {
			n, _ := strconv.ParseInt(id, 10, 64)
			target = n
		}
		args = append(args, rowID, field, target, i)
	}
	return tx.Exec(b.String(), args...).Error
}

// writeFiles applies a media attribute's change to one row.
func (s *Service) writeFiles(tx *gorm.DB, rowID int64, ops *linkOps) error {
	cur, err := currentLinks(tx, "entry_files", "file_id", rowID, ops.attr.Name)
	if err != nil {
		return err
	}
	next := ops.apply(cur)
	if slices.Equal(cur, next) {
		return nil
	}
	return replaceLinks(tx, "entry_files", "file_id", rowID, ops.attr.Name, next)
}

// writeRelation applies an owning attribute's change to row r, and takes
// the new targets of an exclusive relation away from their other owners
// in the same state.
func (s *Service) writeRelation(tx *gorm.DB, t *Type, r *entryRow, ops *linkOps) error {
	a := ops.attr
	cur, err := currentLinks(tx, "entry_relations", "target_document_id", r.ID, a.Name)
	if err != nil {
		return err
	}
	next := ops.apply(cur)
	if slices.Equal(cur, next) {
		return nil
	}
	if err := replaceLinks(tx, "entry_relations", "target_document_id", r.ID, a.Name, next); err != nil {
		return err
	}
	if !exclusive(a) || len(next) == 0 {
		return nil
	}
	return tx.Exec(`DELETE FROM entry_relations WHERE field = ? AND target_document_id IN ?
		AND entry_id <> ? AND entry_id IN (SELECT id FROM entries WHERE content_type = ? AND `+
		s.stateTerm(r.PublishedAt != nil)+`)`, a.Name, next, r.ID, t.UID).Error
}

// writeOtherSide applies a change made from the other side (mappedBy) of
// a relation, for document docID, to the owning documents' rows in both
// states.
func (s *Service) writeOtherSide(tx *gorm.DB, docID string, ops *linkOps) error {
	a := ops.attr
	owner, err := s.TypeByUID(a.Target)
	if err != nil {
		return err
	}
	oa := owner.Schema.Attributes.Get(a.MappedBy)
	if oa == nil {
		return fmt.Errorf("%s has no attribute %s", owner.UID, a.MappedBy)
	}
	var cur []string
	err = tx.Table("entries").Joins("JOIN entry_relations r ON r.entry_id = entries.id").
		Where("r.field = ? AND r.target_document_id = ? AND entries.content_type = ?",
			oa.Name, docID, owner.UID).
		Order("entries.document_id").Distinct("entries.document_id").
		Pluck("entries.document_id", &cur).Error
	if err != nil {
		return err
	}
	next := ops.apply(cur)
	var gone, added []string
	for _, d := range cur {
		if !slices.Contains(next, d) {
			gone = append(gone, d)
		}
	}
	for _, d := range next {
		if !slices.Contains(cur, d) {
			added = append(added, d)
		}
	}
	if len(gone) > 0 {
		err := tx.Exec(`DELETE FROM entry_relations WHERE field = ? AND target_document_id = ?
			AND entry_id IN (SELECT id FROM entries WHERE content_type = ? AND document_id IN ?)`,
			oa.Name, docID, owner.UID, gone).Error
		if err != nil {
			return err
		}
	}
	if len(added) == 0 {
		return nil
	}
	var rows []int64
	err = tx.Table("entries").Where("content_type = ? AND document_id IN ?", owner.UID, added).
		Order("id").Pluck("id", &rows).Error
	if err != nil {
		return err
	}
	for _, id := range rows {
		if !oa.IsMany() {
			err := tx.Exec("DELETE FROM entry_relations WHERE entry_id = ? AND field = ?",
				id, oa.Name).Error
			if err != nil {
				return err
			}
		}
		err := tx.Exec(`INSERT INTO entry_relations (entry_id, field, target_document_id, position)
			SELECT ?, ?, ?, COALESCE(MAX(position) + 1, 0) FROM entry_relations
			WHERE entry_id = ? AND field = ?`, id, oa.Name, docID, id, oa.Name).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// copyLinks makes row to's links those of row from (publishing copies the
// draft's links to the published version, discarding the reverse), then
// takes the targets of exclusive relations away from other rows of to's
// state.
func (s *Service) copyLinks(tx *gorm.DB, t *Type, from, to *entryRow) error {
	if !t.hasLinks() {
		return nil
	}
	for _, table := range []string{"entry_relations", "entry_files"} {
		column := "target_document_id"
		if table == "entry_files" {
			column = "file_id"
		}
		if err := tx.Exec("DELETE FROM "+table+" WHERE entry_id = ?", to.ID).Error; err != nil {
			return err
		}
		err := tx.Exec("INSERT INTO "+table+" (entry_id, field, "+column+", position) SELECT ?, "+
			"field, "+column+", position FROM "+table+" WHERE entry_id = ?", to.ID, from.ID).Error
		if err != nil {
			return err
		}
	}
	for _, a := range t.Schema.Attributes {
		if !exclusive(a) || a.IsInverse() {
			continue
		}
		err := tx.Exec(`DELETE FROM entry_relations WHERE field = ? AND entry_id <> ?
			AND target_document_id IN (SELECT target_document_id FROM entry_relations
				WHERE entry_id = ? AND field = ?)
			AND entry_id IN (SELECT id FROM entries WHERE content_type = ? AND `+
			s.stateTerm(to.PublishedAt != nil)+`)`, a.Name, to.ID, to.ID, a.Name, t.UID).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// copyLinksToDrafts gives the drafts just made from a type's published
// rows (draft and publish switched on) the published rows' links.
func copyLinksToDrafts(tx *gorm.DB, uid string) error {
	for _, table := range []string{"entry_relations", "entry_files"} {
		column := "target_document_id"
		if table == "entry_files" {
			column = "file_id"
		}
		err := tx.Exec("INSERT INTO "+table+" (entry_id, field, "+column+", position) "+
			"SELECT d.id, l.field, l."+column+", l.position FROM "+table+" l "+
			"JOIN entries p ON p.id = l.entry_id "+
			"JOIN entries d ON d.document_id = p.document_id AND d.published_at IS NULL "+
			"WHERE p.content_type = ? AND p.published_at IS NOT NULL", uid).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// dropLinksTo removes every link to a deleted document.
func dropLinksTo(tx *gorm.DB, docID string) error {
	return tx.Exec("DELETE FROM entry_relations WHERE target_document_id = ?", docID).Error
}

// checkRequiredLinks refuses to publish (or save, without draft and
// publish) a row whose required relation or media attributes link
// nothing.
func (s *Service) checkRequiredLinks(tx *gorm.DB, t *Type, r *entryRow) error {
	var fields []FieldError
	for _, a := range t.Schema.Attributes {
		if !a.IsLink() || !a.Required || a.IsInverse() {
			continue
		}
		table := "entry_relations"
		if a.Type == schema.TypeMedia {
			table = "entry_files"
		}
		var n int64
		err := tx.Table(table).Where("entry_id = ? AND field = ?", r.ID, a.Name).Limit(1).
			Count(&n).Error
		if err != nil {
			return err
		}
		if n == 0 {
			fields = append(fields, FieldError{Path: []string{a.Name},
				Message: a.Name + " is required", Name: "ValidationError"})
		}
	}
	if len(fields) > 0 {
		return Invalid(fields[0].Message, fields...)
	}
	return nil
}

// saveLinks writes a document's link changes to its written row r and,
// when r is (or is about to be) published, checks that the required links
// are there.
func (s *Service) saveLinks(tx *gorm.DB, t *Type, r *entryRow, changes []linkOps,
	publish bool) error {
	if err := s.writeLinks(tx, t, r, changes); err != nil {
		return err
	}
	if (publish || r.PublishedAt != nil) && t.hasLinks() {
		return s.checkRequiredLinks(tx, t, r)
	}
	return nil
}
