package content

import (
	"fmt"
	"slices"

	"github.com/herald-cms/herald/content/schema"
)

// linkTypes checks the relation attributes of t (being created, or
// replacing old) against the other content types, and returns the types
// that must change with it: a relation declaring inversedBy gets its other
// side added to the target type when the target does not have it yet, as
// Strapi's builder does. A self-relation's other side is added to t's own
// schema.
func (s *Service) linkTypes(t, old *Type) ([]*Type, error) {
	changed := map[string]*Type{}
	targetOf := func(uid string) *Type {
		if uid == t.UID {
			return t
		}
		if c := changed[uid]; c != nil {
			return c
		}
		other, err := s.TypeByUID(uid)
		if err != nil {
			return nil
		}
		return other
	}
	var fields []FieldError
	fail := func(a *schema.Attribute, key, format string, args ...any) {
		fields = append(fields, FieldError{Path: []string{"attributes", a.Name, key},
			Message: fmt.Sprintf(format, args...), Name: "ValidationError"})
	}
	for _, a := range slices.Clone(t.Schema.Attributes) {
		if a.Type != schema.TypeRelation {
			continue
		}
		tgt := targetOf(a.Target)
		if tgt == nil {
			fail(a, "target", "attribute %s: target %s does not exist", a.Name, a.Target)
			continue
		}
		side := a.MappedBy
		if side == "" {
			side = a.InversedBy
		}
		if side == "" {
			continue
		}
		o := tgt.Schema.Attributes.Get(side)
		if o == nil && a.InversedBy != "" {
			if err := s.addOtherSide(t, tgt, a, changed); err != nil {
				fail(a, "inversedBy", "attribute %s: %s", a.Name, err.Error())
			}
			continue
		}
		if o == nil {
			fail(a, "mappedBy", "attribute %s: %s has no attribute %s declaring inversedBy %q",
				a.Name, tgt.UID, side, a.Name)
			continue
		}
		wantInversed, wantMapped := "", a.Name
		key := "inversedBy"
		if a.MappedBy != "" {
			wantInversed, wantMapped, key = a.Name, "", "mappedBy"
		}
		if o.Type != schema.TypeRelation || o.Target != t.UID || o.InversedBy != wantInversed ||
			o.MappedBy != wantMapped || o.Relation != schema.MirrorRelation(a.Relation) {
			fail(a, key, "attribute %s: attribute %s of %s must be its other side: a %s "+
				"relation to %s with %s %q", a.Name, side, tgt.UID,
				schema.MirrorRelation(a.Relation), t.UID, otherKey(key), a.Name)
		}
	}
	if old != nil {
		fields = append(fields, s.checkRemovedOwners(t, old)...)
	}
	if len(fields) > 0 {
		return nil, Invalid(fields[0].Message, fields...)
	}
	out := make([]*Type, 0, len(changed))
	for _, c := range changed {
		out = append(out, c)
	}
	return out, nil
}

// otherKey names the key the other side of a relation uses.
func otherKey(key string) string {
	if key == "inversedBy" {
		return "mappedBy"
	}
	return "inversedBy"
}

// addOtherSide adds to tgt the attribute that shows the relation a of t
// from tgt's side. tgt is copied (types are immutable once loaded) unless
// it is t itself.
func (s *Service) addOtherSide(t, tgt *Type, a *schema.Attribute, changed map[string]*Type) error {
	if tgt != t && changed[tgt.UID] == nil {
		sc := *tgt.Schema
		sc.Attributes = slices.Clone(tgt.Schema.Attributes)
		tgt = &Type{UID: tgt.UID, Schema: &sc, CreatedAt: tgt.CreatedAt,
			UpdatedAt: s.nowMillis()}
	} else if tgt != t {
		tgt = changed[tgt.UID]
	}
	tgt.Schema.Attributes = append(tgt.Schema.Attributes, &schema.Attribute{
		Name: a.InversedBy, Type: schema.TypeRelation, Relation: schema.MirrorRelation(a.Relation),
		Target: t.UID, MappedBy: a.Name,
	})
	if errs := tgt.Schema.Validate(); len(errs) > 0 {
		return fmt.Errorf("cannot add its other side %s to %s: %s", a.InversedBy, tgt.UID,
			errs[0].Message)
	}
	if tgt != t {
		changed[tgt.UID] = tgt
	}
	return nil
}

// checkRemovedOwners refuses to drop or change the owning side of a
// two-sided relation while the target still shows the other side.
func (s *Service) checkRemovedOwners(t, old *Type) []FieldError {
	var fields []FieldError
	for _, a := range old.Schema.Attributes {
		if a.Type != schema.TypeRelation || a.InversedBy == "" {
			continue
		}
		if n := t.Schema.Attributes.Get(a.Name); n != nil && n.Type == a.Type &&
			n.Target == a.Target && n.InversedBy == a.InversedBy && n.Relation == a.Relation {
			continue
		}
		tgt := t
		if a.Target != t.UID {
			var err error
			if tgt, err = s.TypeByUID(a.Target); err != nil {
				continue
			}
		}
		if o := tgt.Schema.Attributes.Get(a.InversedBy); o != nil && o.MappedBy == a.Name {
			fields = append(fields, FieldError{Path: []string{"attributes", a.Name},
				Message: fmt.Sprintf("attribute %s: attribute %s of %s is its other side; "+
					"remove that first", a.Name, a.InversedBy, tgt.UID),
				Name: "ValidationError"})
		}
	}
	return fields
}

// checkNotTargeted refuses to delete a type that other types' relations
// still target.
func (s *Service) checkNotTargeted(uid string) error {
	for _, other := range s.Types() {
		if other.UID == uid {
			continue
		}
		for _, a := range other.Schema.Attributes {
			if a.Type == schema.TypeRelation && a.Target == uid {
				return Errorf(ECONFLICT, "Content type %s is the target of attribute %s of %s: "+
					"remove that attribute first", uid, a.Name, other.UID)
			}
		}
	}
	return nil
}

// dependents returns uid and the types whose answers depend on it (see
// typeSet.dependents). An empty uid stands for every type.
func (s *Service) dependents(uid string) []string {
	ts := s.types.Load()
	if uid == "" || ts == nil {
		return []string{uid}
	}
	return ts.dependents(uid)
}

// dependents returns uid and every content type whose populated answers
// may show documents of uid (or, for MediaUID, files): the types with a
// relation or media attribute leading to it, directly or through others.
func (ts *typeSet) dependents(uid string) []string {
	out := []string{uid}
	seen := map[string]bool{uid: true}
	for i := 0; i < len(out); i++ {
		for _, t := range ts.list {
			if seen[t.UID] {
				continue
			}
			for _, a := range t.Schema.Attributes {
				if (a.Type == schema.TypeRelation && a.Target == out[i]) ||
					(a.Type == schema.TypeMedia && out[i] == MediaUID) {
					seen[t.UID] = true
					out = append(out, t.UID)
					break
				}
			}
		}
	}
	return out
}

// hasLinks reports whether t has relation or media attributes.
func (t *Type) hasLinks() bool {
	for _, a := range t.Schema.Attributes {
		if a.IsLink() {
			return true
		}
	}
	return false
}
