package content

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DecodeJSON decodes a request body into v. Numbers decode as json.Number
// when v holds interface values. Empty bodies, malformed JSON and trailing
// data are EINVALID errors that say what was wrong.
func DecodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return Invalid("Missing request body: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return Invalid(fmt.Sprintf("Malformed JSON at byte %d: %s", syn.Offset, syn.Error()))
		case errors.As(err, &typ):
			if typ.Field != "" {
				return InvalidField([]string{typ.Field},
					fmt.Sprintf("%s must be %s, not %s", typ.Field, typ.Type, typ.Value))
			}
			return Invalid(fmt.Sprintf("Expected %s, got %s", typ.Type, typ.Value))
		case errors.Is(err, io.ErrUnexpectedEOF):
			return Invalid("Malformed JSON: unexpected end of input")
		}
		return Invalid("Malformed JSON: " + err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return Invalid("Malformed JSON: unexpected data after the top-level value")
	}
	return nil
}
