package web

// RouteTable lists "METHOD path" for every route of h's route table, in the
// order they are registered, for the tests of package web_test.
func RouteTable(h *Herald) []string {
	d := Deps{Content: h.Content, Admin: h.Admin, Webhooks: h.Webhooks, Media: h.Media}
	var out []string
	for _, r := range routes(d) {
		out = append(out, r.method+" "+r.path)
	}
	return out
}
