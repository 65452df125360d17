package client

import "time"

// Email is one of a user's addresses.
type Email struct {
	Address  string `json:"address"`
	Verified bool   `json:"verified"`
}

// Federation describes where a Matrix-federated user comes from.
type Federation struct {
	Version int    `json:"version"`
	MUI     string `json:"mui"`
	Origin  string `json:"origin"`
}

// User is a Rocket.Chat account as the user listing endpoints return it.
// Fields the server omits stay at their zero value; empty fields are left
// out when a user is stored again (a listing kept in the session store).
type User struct {
	ID                    string      `json:"_id"`
	Username              string      `json:"username,omitempty"`
	Name                  string      `json:"name,omitempty"`
	Nickname              string      `json:"nickname,omitempty"`
	Emails                []Email     `json:"emails"`
	Type                  string      `json:"type,omitempty"` // UserTypePerson, UserTypeBot or UserTypeApp
	Active                bool        `json:"active,omitempty"`
	Roles                 []string    `json:"roles"`
	Status                string      `json:"status,omitempty"`
	LastLogin             time.Time   `json:"lastLogin,omitzero"`
	CreatedAt             time.Time   `json:"createdAt,omitzero"`
	Federated             bool        `json:"federated,omitempty"`
	Federation            *Federation `json:"federation,omitempty"`
	InactiveReason        string      `json:"inactiveReason,omitempty"`
	Reason                string      `json:"reason,omitempty"`
	RequirePasswordChange bool        `json:"requirePasswordChange,omitempty"`
}

// Role is a workspace role. Scope "Users" roles are held workspace-wide;
// scope "Subscriptions" roles are held per room or team.
type Role struct {
	ID           string `json:"_id"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	Scope        string `json:"scope"`
	Protected    bool   `json:"protected"`
	Mandatory2FA bool   `json:"mandatory2fa"`
}

// Role scopes.
const (
	ScopeUsers         = "Users"
	ScopeSubscriptions = "Subscriptions"
)

// TeamPrivate is a private team's type (public teams are 0).
const TeamPrivate = 1

// UserRef is the short form of a user embedded in other records.
type UserRef struct {
	ID       string `json:"_id"`
	Username string `json:"username"`
	Name     string `json:"name"`
}

// Team is a Rocket.Chat team as teams.listAll returns it.
type Team struct {
	ID        string    `json:"_id"`
	Name      string    `json:"name"`
	Type      int       `json:"type"`
	RoomID    string    `json:"roomId"`
	CreatedAt time.Time `json:"createdAt"`
	CreatedBy UserRef   `json:"createdBy"`
	// Rooms and NumberOfUsers are counted by teams.listAll only; teams.info
	// leaves them out.
	Rooms         *int `json:"rooms"`
	NumberOfUsers *int `json:"numberOfUsers"`
}

// TeamMember is one membership from teams.members. Roles is empty for plain members.
type TeamMember struct {
	User  UserRef  `json:"user"`
	Roles []string `json:"roles"`
	// CreatedBy and CreatedAt say who added the member, and when.
	CreatedBy UserRef   `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
}

// Me is the caller's own account.
type Me struct {
	ID       string   `json:"_id"`
	Username string   `json:"username"`
	Name     string   `json:"name"`
	Roles    []string `json:"roles"`
	Active   bool     `json:"active"`
}

// ServerInfo is the unauthenticated /api/info answer.
type ServerInfo struct {
	Version string `json:"version"`
	Success bool   `json:"success"`
}

// Permission lists the roles that hold one permission.
type Permission struct {
	ID    string   `json:"_id"`
	Roles []string `json:"roles"`
	// Permissions to change one setting also name it and where it lives.
	Level     string `json:"level,omitempty"`
	SettingID string `json:"settingId,omitempty"`
	Group     string `json:"group,omitempty"`
	Section   string `json:"section,omitempty"`
}

// A user's type (IUser.type in packages/core-typings/src/IUser.ts).
const (
	UserTypePerson = "user"
	UserTypeBot    = "bot"
	UserTypeApp    = "app" // an Apps-Engine app's user
)
