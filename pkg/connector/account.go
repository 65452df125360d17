package connector

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/conductorone/baton-sdk/pkg/crypto"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"golang.org/x/text/unicode/norm"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
)

// Account profile fields, as C1's form and --create-account-profile send them.
const (
	profileUsername              = "username"
	profileLogin                 = "login"
	profileEmail                 = "email"
	profileName                  = "name"
	profileDisplayName           = "display_name"
	profileFirstName             = "first_name"
	profileLastName              = "last_name"
	profileSendWelcomeEmail      = "send_welcome_email"
	profileRequirePasswordChange = "require_password_change"
)

// unrevealedPasswordLength is the length of the password set on accounts
// created without one (SSO/LDAP workspaces); nobody ever sees it.
const unrevealedPasswordLength = 40

// Bounds on generating passwords: users.create is sent at most
// maxPasswordAttempts times, each time only after a definite refusal under
// the password policy; each password is drawn up to localPasswordDraws times
// until it passes passwordMeetsPolicy.
const (
	maxPasswordAttempts = 3
	localPasswordDraws  = 50
	maxPasswordLength   = 128
	minUnrevealedLength = 16
)

// passUsernameHint says how to choose the username when the connector cannot.
const passUsernameHint = `pass the username to use in the account profile's "username" field ` +
	`(the Username field of ConductorOne's form, or --create-account-login with the CLI)`

// accountCreationSchema tells ConductorOne's form which fields to ask for.
func accountCreationSchema() *v2.ConnectorAccountCreationSchema {
	str := func(display, desc, placeholder string, required bool, order int32) *v2.ConnectorAccountCreationSchema_Field {
		return v2.ConnectorAccountCreationSchema_Field_builder{
			DisplayName: display, Description: desc, Placeholder: placeholder, Required: required, Order: order,
			StringField: &v2.ConnectorAccountCreationSchema_StringField{},
		}.Build()
	}
	boolean := func(display, desc string, order int32) *v2.ConnectorAccountCreationSchema_Field {
		no := false
		return v2.ConnectorAccountCreationSchema_Field_builder{
			DisplayName: display, Description: desc, Order: order,
			BoolField: v2.ConnectorAccountCreationSchema_BoolField_builder{DefaultValue: &no}.Build(),
		}.Build()
	}
	return v2.ConnectorAccountCreationSchema_builder{FieldMap: map[string]*v2.ConnectorAccountCreationSchema_Field{
		profileEmail: str("Email", "The user's e-mail address.", "jdoe@example.com", true, 1),
		profileUsername: str("Username",
			"The Rocket.Chat username (letters, digits, '.', '-', '_'). Leave empty to derive it from the e-mail address "+
				"(jane.doe@example.com becomes jane.doe); creation then fails if that username is taken by someone else.", "jdoe", false, 2),
		profileName:      str("Name", "The user's full name. Leave empty to use first and last name, or else the username.", "Jane Doe", false, 3),
		profileFirstName: str("First name", "Used for the full name when Name is empty.", "Jane", false, 4),
		profileLastName:  str("Last name", "Used for the full name when Name is empty.", "Doe", false, 5),
		profileSendWelcomeEmail: boolean("Send welcome e-mail",
			"Ask Rocket.Chat to e-mail the new user a welcome message.", 6),
		profileRequirePasswordChange: boolean("Require password change",
			"Make the user choose a new password at first login (random-password accounts).", 7),
	}}.Build()
}

// CreateAccountCapabilityDetails lists the credential options: a random
// password returned to ConductorOne, or none for SSO/LDAP workspaces.
func (s *userSyncer) CreateAccountCapabilityDetails(context.Context) (*v2.CredentialDetailsAccountProvisioning, annotations.Annotations, error) {
	return v2.CredentialDetailsAccountProvisioning_builder{
		SupportedCredentialOptions: []v2.CapabilityDetailCredentialOption{
			v2.CapabilityDetailCredentialOption_CAPABILITY_DETAIL_CREDENTIAL_OPTION_RANDOM_PASSWORD,
			v2.CapabilityDetailCredentialOption_CAPABILITY_DETAIL_CREDENTIAL_OPTION_NO_PASSWORD,
		},
		PreferredCredentialOption: v2.CapabilityDetailCredentialOption_CAPABILITY_DETAIL_CREDENTIAL_OPTION_RANDOM_PASSWORD,
	}.Build(), nil, nil
}

// CreateAccount creates a Rocket.Chat user with users.create. No welcome
// e-mail is sent unless the profile asks for one. Without a username the
// connector derives one from the e-mail address (usernameFromEmail). The
// same person's existing account (same username and e-mail) gives an
// AlreadyExists result, as does an explicit username or the e-mail address
// in use; a derived username held by someone else is an error, never a
// renamed account.
func (s *userSyncer) CreateAccount(ctx context.Context, info *v2.AccountInfo, creds *v2.LocalCredentialOptions) (
	connectorbuilder.CreateAccountResponse, []*v2.PlaintextData, annotations.Annotations, error,
) {
	if err := s.c.requirePermissions(ctx, "create accounts", client.PermCreateUser); err != nil {
		return nil, nil, nil, err
	}
	acct, err := createUserRequest(info)
	if err != nil {
		return nil, nil, nil, err
	}
	req := acct.req
	if acct.derivedFrom != "" {
		ctxzap.Extract(ctx).Info("rocket.chat username derived from the e-mail address", zap.String("username", req.Username))
	}
	pws, err := newPasswordSource(creds)
	if err != nil {
		return nil, nil, nil, err
	}
	req.RequirePasswordChange = req.RequirePasswordChange || (pws.reveal && creds.GetForceChangeAtNextLogin())
	if !pws.reveal {
		req.RequirePasswordChange = false
	}

	created, err := s.createWithPasswords(ctx, req, pws)
	switch {
	case err == nil:
	case client.IsFieldUnavailable(err):
		return s.existingAccount(ctx, acct, err)
	case client.IsBlockedUsername(err):
		return nil, nil, nil, status.Errorf(codes.InvalidArgument,
			"creating account for %s: Rocket.Chat refuses the username %q%s: it is reserved or on the workspace's blocked list "+
				"(Administration > Settings > Accounts > Registration > Blocked Username List); no account was created; %s (%v)",
			req.Email, req.Username, acct.origin(), passUsernameHint, err)
	case client.IsInvalidUsername(err):
		return nil, nil, nil, status.Errorf(codes.InvalidArgument,
			"creating account for %s: the username %q%s does not match the workspace's username rule "+
				"(Administration > Settings > General > UTF8 > UTF8 Usernames Validation); no account was created; %s (%v)",
			req.Email, req.Username, acct.origin(), passUsernameHint, err)
	default:
		return nil, nil, nil, guardError(fmt.Sprintf("creating account %s", req.Username), err)
	}
	r, err := userResource(ctx, created, s.c.httpsBase(), false)
	if err != nil {
		return nil, nil, nil, err
	}
	var reveal []*v2.PlaintextData
	if pws.reveal {
		reveal = []*v2.PlaintextData{v2.PlaintextData_builder{
			Name: "password", Description: "The new user's initial Rocket.Chat password", Bytes: []byte(req.Password),
		}.Build()}
	}
	return v2.CreateAccountResponse_SuccessResult_builder{Resource: r, IsCreateAccountResult: true}.Build(), reveal, nil, nil
}

// createWithPasswords sends users.create with a freshly generated password,
// and sends it again with another only when Rocket.Chat refused the password
// under its policy: such a 400 is a definite refusal, nothing was created.
// Any other failure, ambiguous ones included (the client never resends a
// POST that may have been applied), ends the attempt.
func (s *userSyncer) createWithPasswords(ctx context.Context, req *client.CreateUserRequest, pws *passwordSource) (*client.User, error) {
	var refusals []string
	for attempt := 1; ; attempt++ {
		pw, err := pws.next()
		if err != nil {
			return nil, err
		}
		req.Password = pw
		created, err := s.c.client.CreateUser(ctx, req)
		reasons, refused := client.PasswordPolicyRefusal(err)
		if !refused {
			return created, err
		}
		refusals = append(refusals, strings.Join(reasons, ", "))
		ctxzap.Extract(ctx).Warn("rocket.chat refused the generated password under its password policy",
			zap.String("username", req.Username), zap.Int("attempt", attempt), zap.Int("length", pws.length), zap.Strings("reasons", reasons))
		if attempt >= maxPasswordAttempts {
			return nil, status.Errorf(codes.FailedPrecondition,
				"creating account %s: Rocket.Chat refused %d generated passwords under its password policy (%s); no account was created: "+
					"check Administration > Settings > Accounts > Password Policy (%v)",
				req.Username, attempt, strings.Join(refusals, "; "), err)
		}
		if adjustErr := pws.adjust(reasons); adjustErr != nil {
			return nil, status.Errorf(codes.FailedPrecondition, "creating account %s: %v; no account was created (%v)", req.Username, adjustErr, err)
		}
	}
}

// existingAccount answers a users.create refused because the username or the
// e-mail address is in use.
func (s *userSyncer) existingAccount(ctx context.Context, acct *accountRequest, createErr error) (
	connectorbuilder.CreateAccountResponse, []*v2.PlaintextData, annotations.Annotations, error,
) {
	req := acct.req
	l := ctxzap.Extract(ctx)
	result := v2.CreateAccountResponse_AlreadyExistsResult_builder{IsCreateAccountResult: true}.Build()
	// Point at the existing account only when it is the same person by
	// username and e-mail: a username clash with someone else must not link
	// the request to the wrong account.
	u, lookupErr := s.c.client.UserByUsername(ctx, req.Username)
	if lookupErr == nil && hasEmail(u, req.Email) {
		l.Info("rocket.chat account already exists", zap.String("username", req.Username))
		if r, err := userResource(ctx, u, s.c.httpsBase(), false); err == nil {
			result.SetResource(r)
		}
		return result, nil, nil, nil
	}
	if acct.derivedFrom != "" && client.UnavailableField(createErr, req.Username, req.Email) != req.Email {
		if lookupErr != nil && !client.IsUserNotFound(lookupErr) {
			return nil, nil, nil, fmt.Errorf("creating account for %s: the username %q is taken; looking up who holds it: %w", req.Email, req.Username, lookupErr)
		}
		// The username was the connector's guess, and it belongs to someone
		// else (or to a team): creating a look-alike such as jdoe2 would be
		// a silent surprise, so stop and say how to choose one.
		holder := "another Rocket.Chat account or a team"
		if lookupErr == nil {
			holder = fmt.Sprintf("another Rocket.Chat account (user id %s, without the e-mail address %s)", u.ID, req.Email)
		}
		return nil, nil, nil, status.Errorf(codes.FailedPrecondition,
			"creating account for %s: the username %q, derived from the e-mail address, is already taken by %s; "+
				"no account was created; %s (%v)",
			req.Email, req.Username, holder, passUsernameHint, createErr)
	}
	l.Warn("rocket.chat username or e-mail is taken by a different account; not linking it",
		zap.String("username", req.Username), zap.NamedError("lookup", lookupErr))
	return result, nil, nil, nil
}

// accountRequest is a users.create body and where its username came from.
type accountRequest struct {
	req *client.CreateUserRequest
	// derivedFrom is the e-mail address the username was derived from; empty
	// when the request named the username.
	derivedFrom string
}

func (a *accountRequest) origin() string {
	if a.derivedFrom == "" {
		return ""
	}
	return " (derived from " + a.derivedFrom + ")"
}

func createUserRequest(info *v2.AccountInfo) (*accountRequest, error) {
	profile := info.GetProfile()
	str := func(key string) string { return strings.TrimSpace(profileValue(profile, key).GetStringValue()) }
	req := &client.CreateUserRequest{
		Username:              firstNonEmpty(str(profileUsername), strings.TrimSpace(info.GetLogin()), str(profileLogin)),
		Email:                 str(profileEmail),
		SendWelcomeEmail:      profileValue(profile, profileSendWelcomeEmail).GetBoolValue(),
		RequirePasswordChange: profileValue(profile, profileRequirePasswordChange).GetBoolValue(),
		JoinDefaultChannels:   true,
	}
	if req.Email == "" {
		for _, e := range info.GetEmails() {
			if req.Email == "" || e.GetIsPrimary() {
				req.Email = strings.TrimSpace(e.GetAddress())
			}
		}
	}
	if req.Email == "" {
		what := "an e-mail address"
		if req.Username == "" {
			what = "an e-mail address (the username is derived from it when none is given)"
		}
		return nil, status.Errorf(codes.InvalidArgument, "cannot create a Rocket.Chat account without %s", what)
	}
	acct := &accountRequest{req: req}
	if req.Username == "" {
		name, err := usernameFromEmail(req.Email)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "cannot create a Rocket.Chat account for %s: %v; %s", req.Email, err, passUsernameHint)
		}
		req.Username, acct.derivedFrom = name, req.Email
	}
	req.Name = accountName(str(profileName), str(profileDisplayName), str(profileFirstName), str(profileLastName), req.Username)
	if !validNameChars(req.Name) {
		return nil, status.Errorf(codes.InvalidArgument,
			"cannot create a Rocket.Chat account for %s: the name %q contains characters Rocket.Chat refuses in names (<, >, /, \\, or a %% that is not an escape)", req.Email, req.Name)
	}
	return acct, nil
}

// accountName is the profile's name (or display_name), else first and last
// name, else the username.
func accountName(name, displayName, first, last, username string) string {
	if n := firstNonEmpty(name, displayName); n != "" {
		return n
	}
	if n := strings.TrimSpace(first + " " + last); n != "" {
		return n
	}
	return username
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// validNameChars is Rocket.Chat's check on users.create's name
// (validateNameChars): none of <, >, / or \, even once percent-decoded, and
// a name that does not percent-decode is refused too.
func validNameChars(name string) bool {
	const invalid = `<>\/`
	if strings.ContainsAny(name, invalid) {
		return false
	}
	dec, err := url.PathUnescape(name)
	return err == nil && !strings.ContainsAny(dec, invalid)
}

// reservedUsernames are refused by every Rocket.Chat server with
// error-blocked-username, ignoring case: "all" and "here" (mentions), and
// the default of the hidden Accounts_SystemBlockedUsernameList. A
// workspace's own Accounts_BlockedUsernameList is only known to the server.
var reservedUsernames = []string{"all", "here", "admin", "administrator", "system", "user"}

// foldLetters spells letters that Unicode does not decompose into a base
// letter and accents.
var foldLetters = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ð': "d", 'þ': "th",
	'ł': "l", 'ı': "i", 'ħ': "h", 'ŧ': "t", 'ŋ': "n", 'ĸ': "k",
}

// usernameFromEmail derives a Rocket.Chat username from an e-mail address,
// within the default username rule (UTF8_User_Names_Validation,
// [0-9a-zA-Z-_.]+): the local part, without a +tag, lower-cased, accents
// removed (é → e, ß → ss), every other character outside a-z, 0-9, '.', '-'
// and '_' dropped, and '.', '-', '_' trimmed from both ends. It refuses
// reserved usernames (admin, system, ...) rather than altering them.
func usernameFromEmail(addr string) (string, error) {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "", fmt.Errorf("%q is not an e-mail address to derive a username from", addr)
	}
	local := strings.Trim(addr[:at], `"`)
	if plus := strings.IndexByte(local, '+'); plus >= 0 {
		local = local[:plus]
	}
	var b strings.Builder
	for _, r := range strings.ToLower(norm.NFKD.String(local)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			_, _ = b.WriteRune(r) // a strings.Builder write cannot fail
		case unicode.Is(unicode.Mn, r):
			// An accent split off its letter.
		default:
			b.WriteString(foldLetters[r]) // empty for anything else: dropped
		}
	}
	name := strings.Trim(b.String(), "._-")
	if name == "" {
		return "", fmt.Errorf("its local part %q has no letters or digits that Rocket.Chat allows in usernames ([0-9a-zA-Z-_.])", addr[:at])
	}
	if slices.Contains(reservedUsernames, name) {
		return "", fmt.Errorf("the username it gives, %q, is reserved by Rocket.Chat (error-blocked-username), "+
			"and the connector does not invent a look-alike for it", name)
	}
	return name, nil
}

// passwordSource generates the passwords users.create is sent with.
type passwordSource struct {
	length      int
	constraints []*v2.PasswordConstraint
	// reveal: the password goes back to ConductorOne; otherwise it is set
	// on an SSO/LDAP account and nobody ever sees it.
	reveal bool
}

func newPasswordSource(creds *v2.LocalCredentialOptions) (*passwordSource, error) {
	switch {
	case creds.GetRandomPassword() != nil:
		rp := creds.GetRandomPassword()
		p := &passwordSource{length: int(rp.GetLength()), constraints: rp.GetConstraints(), reveal: true}
		// Fail early, as the SDK's generator would, on a length it refuses.
		if _, err := crypto.GenerateRandomPassword(p.options()); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "generating a password: %v", err)
		}
		return p, nil
	case creds.GetNoPassword() != nil || creds == nil:
		// users.create demands a password; set one nobody will ever know.
		return &passwordSource{length: unrevealedPasswordLength}, nil
	default:
		return nil, status.Error(codes.InvalidArgument, "unsupported credential option: use a random password or no password")
	}
}

func (p *passwordSource) options() *v2.LocalCredentialOptions_RandomPassword {
	return v2.LocalCredentialOptions_RandomPassword_builder{Length: int64(p.length), Constraints: p.constraints}.Build()
}

// next draws passwords until one meets Rocket.Chat's password policy with
// every rule on. If the requested constraints leave no room for that, the
// last draw is used: the server then decides, and its policy may be off.
func (p *passwordSource) next() (string, error) {
	var pw string
	for range localPasswordDraws {
		var err error
		pw, err = crypto.GenerateRandomPassword(p.options())
		if err != nil {
			return "", status.Errorf(codes.Internal, "generating a password: %v", err)
		}
		if passwordMeetsPolicy(pw) {
			break
		}
	}
	return pw, nil
}

// adjust changes the length after a refusal that names a length rule; other
// refusals (repeating characters, a missing class) just call for another
// password.
func (p *passwordSource) adjust(reasons []string) error {
	has := func(rule string) bool {
		return slices.ContainsFunc(reasons, func(r string) bool { return strings.HasSuffix(r, rule) })
	}
	switch {
	case has("-maxLength") && !p.reveal && p.length > minUnrevealedLength:
		p.length = max(p.length/2, minUnrevealedLength)
	case has("-maxLength"):
		return fmt.Errorf("Rocket.Chat's password policy sets a maximum length (Accounts_Password_Policy_MaxLength) below "+
			"the %d characters asked for: ask for a shorter password or raise the limit", p.length)
	case has("-minLength") && p.length >= maxPasswordLength:
		return fmt.Errorf("Rocket.Chat's password policy asks for more than %d characters (Accounts_Password_Policy_MinLength)", maxPasswordLength)
	case has("-minLength"):
		p.length = min(p.length*2, maxPasswordLength)
	}
	return nil
}

// passwordMeetsPolicy checks pw against Rocket.Chat's password policy
// (packages/password-policies) with every rule on and at its strictest: a
// lower-case letter, an upper-case letter, a digit, a character that is none
// of these nor a space, and no character twice in a row (the policy forbids
// more than Accounts_Password_Policy_ForbidRepeatingCharactersCount, 3 by
// default, which an administrator may lower). Lengths are the caller's.
func passwordMeetsPolicy(pw string) bool {
	if pw != strings.TrimSpace(pw) {
		return false
	}
	var lower, upper, digit, special bool
	var prev rune = -1
	for _, r := range pw {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		case r != ' ':
			special = true
		}
		if r == prev {
			return false
		}
		prev = r
	}
	return lower && upper && digit && special
}

func profileValue(p *structpb.Struct, key string) *structpb.Value {
	if p == nil {
		return nil
	}
	return p.GetFields()[key]
}

func hasEmail(u *client.User, addr string) bool {
	for _, e := range u.Emails {
		if strings.EqualFold(e.Address, addr) {
			return true
		}
	}
	return false
}

// Delete removes a user for good (users.delete). Deactivation keeps the
// audit trail and can be undone; deletion is for those who choose it.
func (s *userSyncer) Delete(ctx context.Context, id *v2.ResourceId, _ *v2.ResourceId) (annotations.Annotations, error) {
	if err := s.c.refuseOwnAccount(ctx, id.GetResource(), "delete"); err != nil {
		return nil, err
	}
	if err := s.c.requirePermissions(ctx, "delete users", client.PermDeleteUser); err != nil {
		return nil, err
	}
	if err := s.c.client.DeleteUser(ctx, id.GetResource()); err != nil {
		if client.IsUserNotFound(err) {
			return nil, nil
		}
		if rooms, ok := client.UserLastOwnerRooms(err); ok {
			return nil, status.Errorf(codes.FailedPrecondition,
				"deleting user %s: the user is the last owner of rooms (%s); hand those rooms over first, "+
					"or deactivate the user instead (disable_user with confirm_relinquish lets Rocket.Chat pass them to their oldest member) (%v)",
				id.GetResource(), roomList(rooms), err)
		}
		return nil, guardError(fmt.Sprintf("deleting user %s", id.GetResource()), err)
	}
	return nil, nil
}
