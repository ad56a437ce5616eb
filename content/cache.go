package content

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"sync"

	"github.com/valyala/fasthttp"
)

// DefaultCacheBytes bounds the response cache: the bodies it keeps, their
// compressed forms included.
const DefaultCacheBytes = 32 << 20

// Response is a rendered answer of the content API with its validator: the
// exact JSON body and a strong entity tag derived from it. Compressed forms
// are made on first request and kept. A Response is immutable once made.
type Response struct {
	// Body is the whole JSON body, {"data": ..., "meta": ...}.
	Body []byte
	// ETag is a quoted strong entity tag: equal tags mean equal bodies.
	ETag string
	// t is the content type the body was rendered with: a cached answer is
	// used only while the type has not been replaced since.
	t *Type

	gzipOnce, brOnce sync.Once
	gzip, br         []byte
	// size is what the cache counts for this answer: the body and an
	// allowance for its compressed forms, which JSON makes small.
	size int64
}

// NewResponse wraps a rendered body and computes its entity tag.
func NewResponse(body []byte) *Response {
	sum := sha256.Sum256(body)
	return &Response{Body: body, ETag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`,
		size: int64(len(body)+len(body)/2) + 256}
}

// compressed returns the body in encoding ("br" or "gzip"), compressing it
// on first use. Brotli uses a middle level and gzip its default: each is
// paid once per cached answer, not per request.
func (r *Response) compressed(encoding string) []byte {
	switch encoding {
	case "br":
		r.brOnce.Do(func() {
			r.br = fasthttp.AppendBrotliBytesLevel(nil, r.Body, 5)
		})
		return r.br
	case "gzip":
		r.gzipOnce.Do(func() {
			r.gzip = fasthttp.AppendGzipBytesLevel(nil, r.Body, fasthttp.CompressDefaultCompression)
		})
		return r.gzip
	}
	return r.Body
}

// MatchesETag reports whether an If-None-Match header names the answer's
// entity tag (weak comparison, as RFC 9110 prescribes for If-None-Match),
// or is "*".
func (r *Response) MatchesETag(ifNoneMatch []byte) bool {
	for len(ifNoneMatch) > 0 {
		var tag []byte
		tag, ifNoneMatch, _ = bytes.Cut(ifNoneMatch, []byte(","))
		tag = bytes.TrimSpace(tag)
		if string(tag) == "*" {
			return true
		}
		tag = bytes.TrimPrefix(tag, []byte("W/"))
		if string(tag) == r.ETag {
			return true
		}
	}
	return false
}

// responseCache keeps rendered answers of the content API's published
// reads, by content type and request.
//
// Only answers that are the same for every actor allowed to ask are kept:
// published documents, read through the REST API (no private attributes),
// by an actor whose grant is not limited to its own entries. Whoever asks
// is authorized before a kept answer is used; drafts and the editors'
// answers are never kept.
//
// Every commit that touches a content type's documents, on this instance
// or (through the bus) another, drops that type's answers; a change of
// content types drops them all. An answer computed while such a commit
// happened is not kept: put only stores it when the type's generation is
// the one stamp read before the database was.
type responseCache struct {
	limit int64

	mu    sync.RWMutex
	size  int64
	epoch uint64
	types map[string]*typeAnswers
}

// typeAnswers are one content type's cached answers.
type typeAnswers struct {
	gen     uint64
	answers map[string]*Response
}

// stamp is a cache generation, read before a database read whose answer
// may be kept.
type stamp struct {
	epoch, gen uint64
}

func newResponseCache(limit int64) *responseCache {
	if limit <= 0 {
		limit = DefaultCacheBytes
	}
	return &responseCache{limit: limit, types: map[string]*typeAnswers{}}
}

// get returns the kept answer for key, if it was rendered with type t.
func (c *responseCache) get(t *Type, key []byte) *Response {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ta := c.types[t.UID]
	if ta == nil {
		return nil
	}
	r := ta.answers[string(key)]
	if r == nil || r.t != t {
		return nil
	}
	return r
}

// stamp returns uid's current generation.
func (c *responseCache) stamp(uid string) stamp {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s := stamp{epoch: c.epoch}
	if ta := c.types[uid]; ta != nil {
		s.gen = ta.gen
	}
	return s
}

// put keeps r for key unless uid changed since st was read, evicting
// other answers when the cache is full.
func (c *responseCache) put(st stamp, t *Type, key []byte, r *Response) {
	r.t = t
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != st.epoch {
		return
	}
	ta := c.types[t.UID]
	if ta == nil {
		if st.gen != 0 {
			return
		}
		ta = &typeAnswers{answers: map[string]*Response{}}
		c.types[t.UID] = ta
	}
	if ta.gen != st.gen {
		return
	}
	k := string(key)
	if old := ta.answers[k]; old != nil {
		c.size -= old.size
	}
	ta.answers[k] = r
	c.size += r.size
	if c.size > c.limit {
		c.evict()
	}
}

// evict drops answers, in Go's random map order, until the cache is back
// under nine tenths of its limit.
func (c *responseCache) evict() {
	for _, ta := range c.types {
		for k, r := range ta.answers {
			delete(ta.answers, k)
			c.size -= r.size
			if c.size <= c.limit*9/10 {
				return
			}
		}
	}
	c.size = 0
}

// invalidate drops uid's answers and bumps its generation. An empty uid
// (the bus says anything may have changed) drops everything.
func (c *responseCache) invalidate(uid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if uid == "" {
		c.purgeLocked()
		return
	}
	ta := c.types[uid]
	if ta == nil {
		c.types[uid] = &typeAnswers{gen: 1, answers: map[string]*Response{}}
		return
	}
	for _, r := range ta.answers {
		c.size -= r.size
	}
	ta.gen++
	ta.answers = map[string]*Response{}
}

// purge drops every answer.
func (c *responseCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.purgeLocked()
}

func (c *responseCache) purgeLocked() {
	c.epoch++
	c.size = 0
	c.types = map[string]*typeAnswers{}
}

// len returns how many answers are kept.
func (c *responseCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	for _, ta := range c.types {
		n += len(ta.answers)
	}
	return n
}
