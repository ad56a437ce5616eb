// Package query is Herald's query language, Strapi v5's REST dialect. Parse
// reads a raw query string (filters, sort, pagination, fields, status, _q,
// populate, locale) into Params; Compile checks Params against a content
// type's schema and turns them into SQL over the entries table, for SQLite
// and PostgreSQL, with the same results on both.
//
// Semantics:
//
//   - Every comparison sees an attribute's typed value: the stored JSON
//     value when its JSON type (and for dates and times, its format) fits
//     the attribute's type, and SQL NULL when it is missing, JSON null, or
//     of another type (left over from an earlier schema). NULL never
//     matches a comparison, negative ones included: $ne, $nei, $notIn,
//     $notContains and $notContainsi skip missing and wrongly typed values,
//     as Strapi's SQL does. $not is SQL NOT: a value its condition skips,
//     it skips too ($not of $null is the exception, being $notNull).
//   - $null matches a missing or JSON null value and $notNull anything
//     else (a wrongly typed value is not null). They are the only operators
//     allowed on json attributes.
//   - $eq, $contains, $startsWith and $endsWith respect case; the i
//     variants fold ASCII letters only, on both databases (SQLite's lower()
//     knows no other letters, so PostgreSQL uses translate() to match).
//     No LIKE is used: % and _ match themselves. An empty needle matches
//     every string.
//   - Text compares and sorts by byte order (COLLATE "C" on PostgreSQL).
//     Numbers compare as numbers, bigintegers exactly as 64-bit integers,
//     booleans as false < true, dates, times and datetimes by their stored
//     fixed-width text, timestamps (createdAt, updatedAt, publishedAt) as
//     instants truncated to microseconds.
//   - Sorting puts nulls first ascending and last descending, and always
//     breaks ties by id.
//   - Values from the query are parsed by the attribute's type and
//     normalised to the stored format (a datetime becomes UTC with
//     milliseconds); a malformed value is an Error naming the attribute.
//   - A condition on the attributes of a relation's target
//     (filters[author][name]=x, filters[author][company][name]=y) holds
//     when some linked document, in the version the row sees, meets it:
//     the version in the row's own state when the target type has draft
//     and publish (drafts see drafts), else the published one. Keys given
//     under one relation must hold for the same linked document. $null
//     and $notNull on a relation or media attribute test whether anything
//     is linked. Both sides of a relation can be filtered on.
//   - populate names relation and media attributes to load, with fields,
//     filters, sort and a nested populate for each, checked against the
//     target type like top-level ones; Compile turns it into a plan
//     (Populate) that the content service follows.
package query
