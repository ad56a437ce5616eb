package query

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits that keep a hostile query string cheap to refuse.
const (
	// MaxQueryLength is the longest raw query string accepted, in bytes.
	MaxQueryLength = 16 << 10
	// maxParams is the most key=value pairs in one query string.
	maxParams = 1000
	// maxKeySegments is the most bracketed parts in one key.
	maxKeySegments = 32
	// maxIndexDigits bounds an array index such as sort[12].
	maxIndexDigits = 6
)

// qnode is one node of a qs-style tree: a leaf holding a string, or a
// container of keyed children kept in the order they first appeared. A
// container whose keys are all decimal indices is an array.
type qnode struct {
	val  string
	leaf bool
	kids []qchild
	// next is the index a "[]" key appends at.
	next int
	// named is set once a key that is not an index is added.
	named bool
}

type qchild struct {
	key  string
	node *qnode
}

// qtree allocates the nodes of one tree in blocks.
type qtree struct {
	free []qnode
}

func (t *qtree) node() *qnode {
	if len(t.free) == 0 {
		t.free = make([]qnode, 16)
	}
	n := &t.free[0]
	t.free = t.free[1:]
	return n
}

func (t *qtree) leaf(val string) *qnode {
	n := t.node()
	n.val, n.leaf = val, true
	return n
}

func (n *qnode) child(key string) *qnode {
	for _, c := range n.kids {
		if c.key == key {
			return c.node
		}
	}
	return nil
}

func (n *qnode) add(key string, c *qnode) {
	if i, ok := parseIndex(key); ok {
		if i >= n.next {
			n.next = i + 1
		}
	} else {
		n.named = true
	}
	if n.kids == nil {
		n.kids = make([]qchild, 0, 4)
	}
	n.kids = append(n.kids, qchild{key, c})
}

// isArray reports whether n is a container whose keys are all indices.
func (n *qnode) isArray() bool {
	return !n.leaf && !n.named && len(n.kids) > 0
}

// toArray turns a leaf into an array holding the leaf's value.
func (n *qnode) toArray(t *qtree) {
	first := t.leaf(n.val)
	n.val, n.leaf = "", false
	n.add("0", first)
}

// elems returns an array's children ordered by index (qs compacts sparse
// arrays the same way).
func (n *qnode) elems() []*qnode {
	out := make([]*qnode, len(n.kids))
	sorted := true
	prev := -1
	for i, c := range n.kids {
		out[i] = c.node
		j, _ := parseIndex(c.key)
		sorted = sorted && j > prev
		prev = j
	}
	if sorted {
		return out
	}
	kids := slices.Clone(n.kids)
	slices.SortStableFunc(kids, func(a, b qchild) int {
		x, _ := parseIndex(a.key)
		y, _ := parseIndex(b.key)
		return x - y
	})
	for i, c := range kids {
		out[i] = c.node
	}
	return out
}

// parseIndex reads an array index: decimal digits without a leading zero.
func parseIndex(s string) (int, bool) {
	if s == "" || len(s) > maxIndexDigits || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseTree reads a raw query string into a qs-style tree.
func parseTree(raw string) (*qnode, error) {
	if len(raw) > MaxQueryLength {
		return nil, invalidf(nil, "Query string too long: %d bytes, at most %d allowed",
			len(raw), MaxQueryLength)
	}
	t := &qtree{}
	root := t.node()
	count := 0
	var segs []string
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		count++
		if count > maxParams {
			return nil, invalidf(nil, "Too many query parameters: at most %d allowed", maxParams)
		}
		rk, rv, _ := strings.Cut(part, "=")
		key, err := decodeComponent(rk)
		if err != nil {
			return nil, err
		}
		if key == "" {
			continue
		}
		val, err := decodeComponent(rv)
		if err != nil {
			return nil, invalidf([]string{key}, "Invalid value for %s: %s", key, err.Message)
		}
		segs, err = splitKey(key, segs[:0])
		if err != nil {
			return nil, err
		}
		if err := root.insert(t, segs, val); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// decodeComponent percent-decodes a key or value the way qs does ('+' is a
// space; a '%' not followed by two hex digits stays as it is) and refuses
// invalid UTF-8 and NUL bytes, which no database column may hold.
func decodeComponent(s string) (string, *Error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, checkText(s)
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	out := string(b)
	return out, checkText(out)
}

func checkText(s string) *Error {
	if !utf8.ValidString(s) {
		return invalidf(nil, "Malformed query string: %s is not valid UTF-8", quote(s))
	}
	if strings.IndexByte(s, 0) >= 0 {
		return invalidf(nil, "Malformed query string: NUL characters are not allowed")
	}
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// splitKey splits "filters[title][$eq]" into filters, title, $eq.
func splitKey(key string, segs []string) ([]string, *Error) {
	i := strings.IndexByte(key, '[')
	if i < 0 {
		return append(segs, key), nil
	}
	if i == 0 {
		return nil, invalidf(nil, "Invalid key %s: a key must start with a name", quote(key))
	}
	segs = append(segs, key[:i])
	rest := key[i:]
	for rest != "" {
		if rest[0] != '[' {
			return nil, invalidf(nil, "Invalid key %s: text after a closing bracket", quote(key))
		}
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return nil, invalidf(nil, "Invalid key %s: unclosed bracket", quote(key))
		}
		seg := rest[1:j]
		if strings.IndexByte(seg, '[') >= 0 {
			return nil, invalidf(nil, "Invalid key %s: nested bracket", quote(key))
		}
		segs = append(segs, seg)
		if len(segs) > maxKeySegments {
			return nil, invalidf(nil, "Invalid key %s: nested more than %d levels",
				quote(key), maxKeySegments)
		}
		rest = rest[j+1:]
	}
	return segs, nil
}

// insert stores val at the path segs, merging the way qs does: a repeated
// key or an empty "[]" segment builds an array.
func (n *qnode) insert(t *qtree, segs []string, val string) *Error {
	for i, seg := range segs {
		if n.leaf {
			if _, ok := parseIndex(seg); !ok && seg != "" {
				return conflict(segs[:i])
			}
			n.toArray(t)
		}
		key := seg
		if seg == "" {
			key = strconv.Itoa(n.next)
		}
		c := n.child(key)
		if i < len(segs)-1 {
			if c == nil {
				c = t.node()
				n.add(key, c)
			}
			n = c
			continue
		}
		switch {
		case c == nil:
			n.add(key, t.leaf(val))
		case c.leaf:
			c.toArray(t)
			c.add(strconv.Itoa(c.next), t.leaf(val))
		case !c.named:
			c.add(strconv.Itoa(c.next), t.leaf(val))
		default:
			return conflict(segs[:i+1])
		}
	}
	return nil
}

func conflict(path []string) *Error {
	p := extend(path)
	return invalidf(p, "Invalid key %s: given both a value and nested keys", keyString(p))
}
