package content

import "context"

// ActorKind says what sort of principal is acting.
type ActorKind string

// The kinds of principal.
const (
	ActorAdmin  ActorKind = "admin"
	ActorToken  ActorKind = "api-token"
	ActorUser   ActorKind = "user"
	ActorPublic ActorKind = "public"
	// ActorSystem is Herald itself (imports, command-line tools): it may do
	// everything.
	ActorSystem ActorKind = "system"
)

// Action is something an actor may do on a content type.
type Action string

// The content actions. Publish also covers unpublish and discarding a draft.
// ReadDrafts is asked in addition to Find or FindOne when a request wants
// draft documents.
const (
	ActionFind       Action = "find"
	ActionFindOne    Action = "findOne"
	ActionCreate     Action = "create"
	ActionUpdate     Action = "update"
	ActionDelete     Action = "delete"
	ActionPublish    Action = "publish"
	ActionReadDrafts Action = "readDrafts"
)

// Grant is the answer to "may this actor do that?".
type Grant struct {
	Allowed bool
	// OwnOnly restricts the action to entries the actor created.
	OwnOnly bool
}

// Policy decides what an actor may do. The admin package implements it for
// administrators, tokens and the users-permissions roles.
type Policy interface {
	Allow(ctx context.Context, action Action, uid string) Grant
}

// Actor is the principal behind a request.
type Actor struct {
	Kind ActorKind
	// ID is the administrator, token or user id; zero for public and system.
	ID int64
	// Name is what the request log shows: an email, a token name, "public".
	Name   string
	Policy Policy
}

// Can asks the actor's policy. An actor without a policy may do nothing,
// except the system actor, which may do everything.
func (a Actor) Can(ctx context.Context, action Action, uid string) Grant {
	if a.Kind == ActorSystem {
		return Grant{Allowed: true}
	}
	if a.Policy == nil {
		return Grant{}
	}
	return a.Policy.Allow(ctx, action, uid)
}

// SystemActor is Herald acting on its own behalf.
var SystemActor = Actor{Kind: ActorSystem, Name: "system"}

// PolicyFunc adapts a function to the Policy interface.
type PolicyFunc func(ctx context.Context, action Action, uid string) Grant

// Allow calls f.
func (f PolicyFunc) Allow(ctx context.Context, action Action, uid string) Grant {
	return f(ctx, action, uid)
}

// AllowAll is a policy granting every action on every type.
var AllowAll = PolicyFunc(func(context.Context, Action, string) Grant {
	return Grant{Allowed: true}
})

type actorKey struct{}

// WithActor returns a context carrying the actor. The web layer puts the
// authenticated actor into every request's user context.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx; without one it is the public actor with
// no grants.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Kind: ActorPublic, Name: "public"}
}
