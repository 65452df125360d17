package connector

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/conductorone/baton-sdk/pkg/crypto"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
)

// Account profile fields, as C1's form and --create-account-profile send them.
const (
	profileUsername              = "username"
	profileEmail                 = "email"
	profileName                  = "name"
	profileSendWelcomeEmail      = "send_welcome_email"
	profileRequirePasswordChange = "require_password_change"
)

// unrevealedPasswordLength is the length of the password set on accounts
// created without one (SSO/LDAP workspaces); nobody ever sees it.
const unrevealedPasswordLength = 40

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
		profileUsername: str("Username", "The Rocket.Chat username (letters, digits, '.', '-', '_').", "jdoe", true, 1),
		profileEmail:    str("Email", "The user's e-mail address.", "jdoe@example.com", true, 2),
		profileName:     str("Name", "The user's full name.", "Jane Doe", true, 3),
		profileSendWelcomeEmail: boolean("Send welcome e-mail",
			"Ask Rocket.Chat to e-mail the new user a welcome message.", 4),
		profileRequirePasswordChange: boolean("Require password change",
			"Make the user choose a new password at first login (random-password accounts).", 5),
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
// e-mail is sent unless the profile asks for one. An existing username or
// e-mail gives an AlreadyExists result, not an error.
func (s *userSyncer) CreateAccount(ctx context.Context, info *v2.AccountInfo, creds *v2.LocalCredentialOptions) (
	connectorbuilder.CreateAccountResponse, []*v2.PlaintextData, annotations.Annotations, error,
) {
	if err := s.c.requirePermissions(ctx, "create accounts", permCreateUser); err != nil {
		return nil, nil, nil, err
	}
	req, err := createUserRequest(info)
	if err != nil {
		return nil, nil, nil, err
	}
	var reveal []*v2.PlaintextData
	switch {
	case creds.GetRandomPassword() != nil:
		pw, err := crypto.GeneratePassword(ctx, creds)
		if err != nil {
			return nil, nil, nil, status.Errorf(codes.InvalidArgument, "generating a password: %v", err)
		}
		req.Password = pw
		req.RequirePasswordChange = req.RequirePasswordChange || creds.GetForceChangeAtNextLogin()
		reveal = []*v2.PlaintextData{v2.PlaintextData_builder{
			Name: "password", Description: "The new user's initial Rocket.Chat password", Bytes: []byte(pw),
		}.Build()}
	case creds.GetNoPassword() != nil || creds == nil:
		// users.create demands a password; set one nobody will ever know.
		pw, err := crypto.GenerateRandomPassword(v2.LocalCredentialOptions_RandomPassword_builder{Length: unrevealedPasswordLength}.Build())
		if err != nil {
			return nil, nil, nil, status.Errorf(codes.Internal, "generating a password: %v", err)
		}
		req.Password = pw
		req.RequirePasswordChange = false
	default:
		return nil, nil, nil, status.Error(codes.InvalidArgument, "unsupported credential option: use a random password or no password")
	}

	created, err := s.c.client.CreateUser(ctx, req)
	if hasErrorType(err, "error-field-unavailable") {
		return s.existingAccount(ctx, req)
	}
	if err != nil {
		return nil, nil, nil, guardError(fmt.Sprintf("creating account %s", req.Username), err)
	}
	r, err := userResource(ctx, created, s.c.httpsBase())
	if err != nil {
		return nil, nil, nil, err
	}
	return v2.CreateAccountResponse_SuccessResult_builder{Resource: r, IsCreateAccountResult: true}.Build(), reveal, nil, nil
}

func (s *userSyncer) existingAccount(ctx context.Context, req *client.CreateUserRequest) (
	connectorbuilder.CreateAccountResponse, []*v2.PlaintextData, annotations.Annotations, error,
) {
	ctxzap.Extract(ctx).Info("rocket.chat account already exists", zap.String("username", req.Username))
	result := v2.CreateAccountResponse_AlreadyExistsResult_builder{IsCreateAccountResult: true}.Build()
	// Point at the existing account only when it is the same person by
	// username and e-mail: a username clash with someone else must not link
	// the request to the wrong account.
	u, lookupErr := s.c.client.UserByUsername(ctx, req.Username)
	if lookupErr != nil || !hasEmail(u, req.Email) {
		ctxzap.Extract(ctx).Warn("rocket.chat username or e-mail is taken by a different account; not linking it",
			zap.String("username", req.Username), zap.NamedError("lookup", lookupErr))
		return result, nil, nil, nil
	}
	if r, err := userResource(ctx, u, s.c.httpsBase()); err == nil {
		result.SetResource(r)
	}
	return result, nil, nil, nil
}

func createUserRequest(info *v2.AccountInfo) (*client.CreateUserRequest, error) {
	profile := info.GetProfile()
	str := func(key string) string { return strings.TrimSpace(profileValue(profile, key).GetStringValue()) }
	req := &client.CreateUserRequest{
		Username:              str(profileUsername),
		Email:                 str(profileEmail),
		Name:                  str(profileName),
		SendWelcomeEmail:      profileValue(profile, profileSendWelcomeEmail).GetBoolValue(),
		RequirePasswordChange: profileValue(profile, profileRequirePasswordChange).GetBoolValue(),
		JoinDefaultChannels:   true,
	}
	if req.Username == "" {
		req.Username = strings.TrimSpace(info.GetLogin())
	}
	if req.Email == "" {
		for _, e := range info.GetEmails() {
			if req.Email == "" || e.GetIsPrimary() {
				req.Email = e.GetAddress()
			}
		}
	}
	if req.Name == "" {
		req.Name = req.Username
	}
	var missing []string
	if req.Username == "" {
		missing = append(missing, "username (or login)")
	}
	if req.Email == "" {
		missing = append(missing, "email")
	}
	if len(missing) > 0 {
		return nil, status.Errorf(codes.InvalidArgument, "cannot create a Rocket.Chat account without %s", strings.Join(missing, " and "))
	}
	return req, nil
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
	if err := s.c.requirePermissions(ctx, "delete users", permDeleteUser); err != nil {
		return nil, err
	}
	if err := s.c.client.DeleteUser(ctx, id.GetResource(), false); err != nil {
		if isUserNotFound(err) {
			return nil, nil
		}
		var apiErr *client.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorType == "user-last-owner" {
			return nil, status.Errorf(codes.FailedPrecondition,
				"deleting user %s: the user is the last owner of rooms (%s); hand those rooms over first, "+
					"or deactivate the user instead (disable_user with confirm_relinquish lets Rocket.Chat pass them to their oldest member) (%v)",
				id.GetResource(), ownedRooms(apiErr), err)
		}
		return nil, guardError(fmt.Sprintf("deleting user %s", id.GetResource()), err)
	}
	return nil, nil
}
