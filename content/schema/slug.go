package schema

import (
	"strings"
	"unicode"
)

// foldings maps accented Latin letters (lowercase) to ASCII.
var foldings = buildFoldings(map[string]string{
	"a": "àáâãäåāăąǎ", "c": "çćĉċč", "d": "ďđð", "e": "èéêëēĕėęě",
	"g": "ĝğġģ", "h": "ĥħ", "i": "ìíîïĩīĭįı", "j": "ĵ", "k": "ķ",
	"l": "ĺļľŀł", "n": "ñńņňŉ", "o": "òóôõöøōŏőǒ", "r": "ŕŗř",
	"s": "śŝşšș", "t": "ţťŧț", "u": "ùúûüũūŭůűųǔ", "w": "ŵ", "y": "ýÿŷ",
	"z": "źżž", "ae": "æ", "oe": "œ", "ss": "ß", "th": "þ",
})

// buildFoldings inverts a table of ASCII spellings and the letters they
// stand for.
func buildFoldings(table map[string]string) map[rune]string {
	m := map[rune]string{}
	for ascii, letters := range table {
		for _, r := range letters {
			m[r] = ascii
		}
	}
	return m
}

// Slugify turns text into a uid: lowercase ASCII letters and digits, each
// run of anything else becoming one '-', with no '-' at either end.
// Accented Latin letters are folded ("Crème brûlée" becomes
// "creme-brulee"), combining marks and apostrophes are dropped ("Don't"
// becomes "dont"), and "&" reads "and". Letters of other scripts are
// treated as separators, so a title without Latin letters or digits gives
// "".
func Slugify(s string) string {
	var b strings.Builder
	dash := false
	write := func(part string) {
		if dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = false
		b.WriteString(part)
	}
	for _, r := range s {
		r = unicode.ToLower(r)
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			write(string(r))
		case foldings[r] != "":
			write(foldings[r])
		case r == '&':
			dash = true
			write("and")
			dash = true
		case r == '\'' || r == '\u2019' || r == '\u2018' || unicode.Is(unicode.Mn, r):
			// Dropped without a separator: "don't" reads "dont".
		default:
			dash = true
		}
	}
	return b.String()
}
