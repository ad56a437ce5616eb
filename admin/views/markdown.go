package views

import (
	"context"
	"html"
	"io"
	"strings"

	"github.com/a-h/templ"
)

// Markdown renders the common part of Markdown as HTML for previews:
// headings, paragraphs, emphasis, code spans and blocks, block quotes,
// lists, rules and links. Every piece of the source is escaped; the only
// elements in the output are the ones this renderer writes, and links keep
// only http, https, mailto and relative URLs.
func Markdown(src string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, RenderMarkdown(src))
		return err
	})
}

// RenderMarkdown returns the HTML of Markdown renders.
func RenderMarkdown(src string) string {
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	var b strings.Builder
	md := &mdBlocks{lines: lines, out: &b}
	md.run()
	return b.String()
}

type mdBlocks struct {
	lines []string
	i     int
	out   *strings.Builder
}

func (m *mdBlocks) run() {
	for m.i < len(m.lines) {
		line := m.lines[m.i]
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			m.i++
		case strings.HasPrefix(trimmed, "```"):
			m.fence()
		case headingLevel(trimmed) > 0:
			n := headingLevel(trimmed)
			text := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(trimmed[n:]), "#"))
			tag := "h" + itoa(n)
			m.out.WriteString("<" + tag + ">" + inline(text) + "</" + tag + ">\n")
			m.i++
		case isRule(trimmed):
			m.out.WriteString("<hr>\n")
			m.i++
		case strings.HasPrefix(trimmed, ">"):
			m.quote()
		case listMarker(trimmed) != "":
			m.list(listMarker(trimmed))
		default:
			m.paragraph()
		}
	}
}

// fence writes a fenced code block; an unclosed fence runs to the end.
func (m *mdBlocks) fence() {
	m.i++
	var code []string
	for m.i < len(m.lines) && !strings.HasPrefix(strings.TrimSpace(m.lines[m.i]), "```") {
		code = append(code, m.lines[m.i])
		m.i++
	}
	m.i++
	m.out.WriteString("<pre><code>" + html.EscapeString(strings.Join(code, "\n")) +
		"</code></pre>\n")
}

// quote renders the quoted lines as Markdown of their own.
func (m *mdBlocks) quote() {
	var inner []string
	for m.i < len(m.lines) {
		t := strings.TrimSpace(m.lines[m.i])
		if !strings.HasPrefix(t, ">") {
			break
		}
		inner = append(inner, strings.TrimPrefix(strings.TrimPrefix(t, ">"), " "))
		m.i++
	}
	m.out.WriteString("<blockquote>\n" + RenderMarkdown(strings.Join(inner, "\n")) +
		"</blockquote>\n")
}

// list renders consecutive items of one kind of list.
func (m *mdBlocks) list(kind string) {
	tag := "ul"
	if kind == "1." {
		tag = "ol"
	}
	m.out.WriteString("<" + tag + ">\n")
	for m.i < len(m.lines) {
		t := strings.TrimSpace(m.lines[m.i])
		if listMarker(t) != kind {
			break
		}
		text := strings.TrimSpace(t[strings.IndexByte(t, ' ')+1:])
		m.out.WriteString("<li>" + inline(text) + "</li>\n")
		m.i++
	}
	m.out.WriteString("</" + tag + ">\n")
}

// paragraph joins lines up to a blank line or another block.
func (m *mdBlocks) paragraph() {
	var parts []string
	for m.i < len(m.lines) {
		line := m.lines[m.i]
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "```") || headingLevel(t) > 0 ||
			strings.HasPrefix(t, ">") || listMarker(t) != "" || (len(parts) > 0 && isRule(t)) {
			break
		}
		text := inline(t)
		if strings.HasSuffix(line, "  ") {
			text += "<br>"
		}
		parts = append(parts, text)
		m.i++
	}
	m.out.WriteString("<p>" + strings.Join(parts, "\n") + "</p>\n")
}

// headingLevel is the level of an ATX heading ("## Title"), or 0.
func headingLevel(t string) int {
	n := 0
	for n < len(t) && t[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || (n < len(t) && t[n] != ' ') {
		return 0
	}
	return n
}

// isRule reports whether the line is a thematic break: three or more of
// the same -, * or _.
func isRule(t string) bool {
	s := strings.ReplaceAll(t, " ", "")
	if len(s) < 3 {
		return false
	}
	c := s[0]
	if c != '-' && c != '*' && c != '_' {
		return false
	}
	return strings.Count(s, string(c)) == len(s)
}

// listMarker is "-" for a bulleted item, "1." for a numbered one, or "".
func listMarker(t string) string {
	if len(t) >= 2 && (t[0] == '-' || t[0] == '*' || t[0] == '+') && t[1] == ' ' {
		return "-"
	}
	digits := 0
	for digits < len(t) && t[digits] >= '0' && t[digits] <= '9' {
		digits++
	}
	if digits > 0 && digits < 10 && len(t) > digits+1 && t[digits] == '.' && t[digits+1] == ' ' {
		return "1."
	}
	return ""
}

// inline renders emphasis, code spans, links and escapes within one line.
func inline(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && strings.IndexByte("\\`*_[]()#+-.!>", s[i+1]) >= 0:
			b.WriteString(html.EscapeString(s[i+1 : i+2]))
			i += 2
			continue
		case c == '`':
			if end := strings.IndexByte(s[i+1:], '`'); end >= 0 {
				b.WriteString("<code>" + html.EscapeString(s[i+1:i+1+end]) + "</code>")
				i += end + 2
				continue
			}
		case c == '[':
			if text, href, n, ok := link(s[i:]); ok {
				b.WriteString(`<a href="` + html.EscapeString(href) + `" rel="nofollow">` +
					inline(text) + "</a>")
				i += n
				continue
			}
		case c == '*' || c == '_':
			if strings.HasPrefix(s[i:], strings.Repeat(string(c), 2)) {
				delim := s[i : i+2]
				if end := strings.Index(s[i+2:], delim); end > 0 {
					b.WriteString("<strong>" + inline(s[i+2:i+2+end]) + "</strong>")
					i += end + 4
					continue
				}
			} else if c == '*' || i == 0 || !isWordByte(s[i-1]) {
				if end := strings.IndexByte(s[i+1:], c); end > 0 {
					b.WriteString("<em>" + inline(s[i+1:i+1+end]) + "</em>")
					i += end + 2
					continue
				}
			}
		}
		b.WriteString(html.EscapeString(s[i : i+1]))
		i++
	}
	return b.String()
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// link parses "[text](url)" at the start of s and returns the text, a safe
// URL and the length consumed.
func link(s string) (text, href string, n int, ok bool) {
	rb := strings.IndexByte(s, ']')
	if rb < 0 || rb+1 >= len(s) || s[rb+1] != '(' {
		return "", "", 0, false
	}
	end := strings.IndexByte(s[rb+2:], ')')
	if end < 0 {
		return "", "", 0, false
	}
	href = strings.TrimSpace(s[rb+2 : rb+2+end])
	if !safeHref(href) {
		href = "#"
	}
	return s[1:rb], href, rb + 3 + end, true
}

// safeHref accepts http, https and mailto URLs and URLs without a scheme,
// none with spaces, quotes or angle brackets.
func safeHref(u string) bool {
	if u == "" || strings.ContainsAny(u, " \t\"'<>`") {
		return false
	}
	lower := strings.ToLower(u)
	for _, p := range []string{"http://", "https://", "mailto:"} {
		if strings.HasPrefix(lower, p) {
			return true
		}
	}
	colon := strings.IndexByte(u, ':')
	if colon < 0 {
		return true
	}
	// A colon after the first /, ? or # is part of the path, not a scheme.
	cut := strings.IndexAny(u, "/?#")
	return cut >= 0 && cut < colon
}
