package connector

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// rocketChatUsernameRule is UTF8_User_Names_Validation's default as
// validateUserData applies it: ^[0-9a-zA-Z-_.]+$.
var rocketChatUsernameRule = regexp.MustCompile(`^[0-9a-zA-Z\-_.]+$`)

func TestUsernameFromEmail(t *testing.T) {
	for _, tc := range []struct {
		email, want string
		wantErr     string // part of the error, when derivation must fail
	}{
		{email: "new.hire@example.com", want: "new.hire"},
		{email: "Jane.Doe@Example.COM", want: "jane.doe"},
		{email: "jane_doe-2@example.com", want: "jane_doe-2"},
		{email: "jdoe+rocketchat@example.com", want: "jdoe"},
		{email: "jdoe+a+b@example.com", want: "jdoe"},
		{email: "José.Núñez@example.es", want: "jose.nunez"},
		{email: "Søren.Kierkegaard@example.dk", want: "soren.kierkegaard"},
		{email: "straße@example.de", want: "strasse"},
		{email: "Łukasz@example.pl", want: "lukasz"},
		{email: "o'brien@example.ie", want: "obrien"},
		{email: "first&last@example.com", want: "firstlast"},
		{email: `"quoted.name"@example.com`, want: "quoted.name"},
		{email: ".dot.-_@example.com", want: "dot"},
		{email: "12345@example.com", want: "12345"},
		{email: "ﬁnance@example.com", want: "finance"}, // ligature, NFKD
		{email: "weird@name@example.com", want: "weirdname"},
		{email: "  spaced@example.com  ", want: "spaced"},

		// Reserved by every server: refused, never turned into a look-alike.
		{email: "admin@example.com", wantErr: `"admin", is reserved`},
		{email: "Administrator@example.com", wantErr: `"administrator", is reserved`},
		{email: "system@example.com", wantErr: "reserved"},
		{email: "user@example.com", wantErr: "reserved"},
		{email: "all@example.com", wantErr: "reserved"},
		{email: "HERE@example.com", wantErr: "reserved"},
		{email: "admin+ops@example.com", wantErr: "reserved"},
		{email: ".admin.@example.com", wantErr: "reserved"},

		// Nothing usable.
		{email: "张伟@example.cn", wantErr: "no letters or digits"},
		{email: "+tag@example.com", wantErr: "no letters or digits"},
		{email: "...@example.com", wantErr: "no letters or digits"},
		{email: "not-an-email", wantErr: "not an e-mail address"},
		{email: "@example.com", wantErr: "not an e-mail address"},
		{email: "trailing@", wantErr: "not an e-mail address"},
		{email: "", wantErr: "not an e-mail address"},
	} {
		t.Run(tc.email, func(t *testing.T) {
			got, err := usernameFromEmail(tc.email)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("usernameFromEmail(%q) = %q, %v; want an error mentioning %q", tc.email, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("usernameFromEmail(%q) = %q, %v; want %q", tc.email, got, err, tc.want)
			}
			if !rocketChatUsernameRule.MatchString(got) {
				t.Errorf("%q does not match Rocket.Chat's default username rule", got)
			}
		})
	}
}

func FuzzUsernameFromEmail(f *testing.F) {
	for _, s := range []string{"new.hire@example.com", "José@x.es", "a+b@c", "@", "ß@x", "admin@x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		name, err := usernameFromEmail(addr)
		if err != nil {
			return
		}
		if !rocketChatUsernameRule.MatchString(name) {
			t.Fatalf("usernameFromEmail(%q) = %q, outside Rocket.Chat's username rule", addr, name)
		}
		for _, r := range reservedUsernames {
			if strings.EqualFold(name, r) {
				t.Fatalf("usernameFromEmail(%q) = reserved %q", addr, name)
			}
		}
	})
}

func TestAccountName(t *testing.T) {
	for _, tc := range []struct {
		name, display, first, last, username, want string
	}{
		{name: "Jane Doe", display: "J. Doe", first: "Jane", last: "Doe", username: "jdoe", want: "Jane Doe"},
		{display: "J. Doe", first: "Jane", last: "Doe", username: "jdoe", want: "J. Doe"},
		{first: "Jane", last: "Doe", username: "jdoe", want: "Jane Doe"},
		{first: "Jane", username: "jdoe", want: "Jane"},
		{last: "Doe", username: "jdoe", want: "Doe"},
		{username: "jdoe", want: "jdoe"},
	} {
		if got := accountName(tc.name, tc.display, tc.first, tc.last, tc.username); got != tc.want {
			t.Errorf("accountName(%q, %q, %q, %q, %q) = %q, want %q", tc.name, tc.display, tc.first, tc.last, tc.username, got, tc.want)
		}
	}
}

func TestCreateUserRequest(t *testing.T) {
	info := func(login string, emails []string, profile map[string]any) *v2.AccountInfo {
		i, err := harness.AccountInfo(login, emails, profile)
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	for _, tc := range []struct {
		name                            string
		info                            *v2.AccountInfo
		username, email, fullName, from string
		code                            codes.Code
		mention                         string
	}{
		{name: "e-mail only, as --create-account-profile sends it", info: info("", []string{"new.hire@example.com"}, map[string]any{"email": "new.hire@example.com"}),
			username: "new.hire", email: "new.hire@example.com", fullName: "new.hire", from: "new.hire@example.com"},
		{name: "e-mail only in the account's e-mails", info: info("", []string{"Ann.Lee@example.com"}, nil),
			username: "ann.lee", email: "Ann.Lee@example.com", fullName: "ann.lee", from: "Ann.Lee@example.com"},
		{name: "first and last name", info: info("", nil, map[string]any{"email": "jdoe@example.com", "first_name": "Jane", "last_name": "Doe"}),
			username: "jdoe", email: "jdoe@example.com", fullName: "Jane Doe", from: "jdoe@example.com"},
		{name: "display name", info: info("", nil, map[string]any{"email": "jdoe@example.com", "display_name": "Jane D.", "first_name": "Jane"}),
			username: "jdoe", email: "jdoe@example.com", fullName: "Jane D."},
		{name: "profile username wins", info: info("login.name", nil, map[string]any{"username": "chosen", "email": "jdoe@example.com"}),
			username: "chosen", email: "jdoe@example.com", fullName: "chosen"},
		{name: "login wins over the e-mail", info: info("login.name", []string{"jdoe@example.com"}, nil),
			username: "login.name", email: "jdoe@example.com", fullName: "login.name"},
		{name: "profile login", info: info("", nil, map[string]any{"login": "p.login", "email": "jdoe@example.com"}),
			username: "p.login", email: "jdoe@example.com", fullName: "p.login"},
		{name: "an explicit reserved name is the server's to refuse", info: info("admin", []string{"boss@example.com"}, nil),
			username: "admin", email: "boss@example.com", fullName: "admin"},
		{name: "no e-mail", info: info("", nil, map[string]any{"first_name": "Jane"}), code: codes.InvalidArgument, mention: "without an e-mail address"},
		{name: "login, no e-mail", info: info("jdoe", nil, nil), code: codes.InvalidArgument, mention: "without an e-mail address"},
		{name: "reserved local part", info: info("", []string{"admin@example.com"}, nil), code: codes.InvalidArgument, mention: `"username" field`},
		{name: "name with a slash", info: info("", nil, map[string]any{"email": "jdoe@example.com", "name": "Jane/Doe"}), code: codes.InvalidArgument, mention: "refuses in names"},
		{name: "name with a bad escape", info: info("", nil, map[string]any{"email": "jdoe@example.com", "name": "100%"}), code: codes.InvalidArgument, mention: "refuses in names"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct, err := createUserRequest(tc.info)
			if tc.code != codes.OK {
				if status.Code(err) != tc.code || !strings.Contains(err.Error(), tc.mention) {
					t.Fatalf("err %v, want %v mentioning %q", err, tc.code, tc.mention)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := acct.req
			if r.Username != tc.username || r.Email != tc.email || r.Name != tc.fullName {
				t.Errorf("request %s <%s> %q, want %s <%s> %q", r.Username, r.Email, r.Name, tc.username, tc.email, tc.fullName)
			}
			if tc.from != "" && acct.derivedFrom != tc.from {
				t.Errorf("derived from %q, want %q", acct.derivedFrom, tc.from)
			}
			if r.SendWelcomeEmail {
				t.Errorf("a welcome e-mail was asked for")
			}
		})
	}
}

func TestPasswordMeetsPolicy(t *testing.T) {
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"Abcdef1!", true},
		{"A1!bA1!b", true},
		{"abcdef1!", false},  // no upper case
		{"ABCDEF1!", false},  // no lower case
		{"Abcdefg!", false},  // no digit
		{"Abcdefg1", false},  // no special character
		{"Abc def1", false},  // a space is not special
		{"Abc def1!", true},  // ...but allowed
		{"Abbcdef1!", false}, // a character twice in a row
		{" Abcdef1!", false}, // Rocket.Chat trims passwords
		{"Abcdef1! ", false},
		{"Äbcdef1X", true},  // non-ASCII counts as special, as [^A-Za-z0-9 ]
		{"Äbcdef1x", false}, // ...and not as upper case
	} {
		if got := passwordMeetsPolicy(tc.pw); got != tc.want {
			t.Errorf("passwordMeetsPolicy(%q) = %v, want %v", tc.pw, got, tc.want)
		}
	}
}

func TestPasswordSourceDrawsPolicyPasswords(t *testing.T) {
	for _, creds := range []*v2.LocalCredentialOptions{
		v2.LocalCredentialOptions_builder{RandomPassword: v2.LocalCredentialOptions_RandomPassword_builder{Length: 8}.Build()}.Build(),
		v2.LocalCredentialOptions_builder{RandomPassword: v2.LocalCredentialOptions_RandomPassword_builder{Length: 20}.Build()}.Build(),
		v2.LocalCredentialOptions_builder{NoPassword: &v2.LocalCredentialOptions_NoPassword{}}.Build(),
		// A constraint set without special characters: the draw still finds some.
		v2.LocalCredentialOptions_builder{RandomPassword: v2.LocalCredentialOptions_RandomPassword_builder{
			Length:      12,
			Constraints: []*v2.PasswordConstraint{v2.PasswordConstraint_builder{CharSet: "abcdefghijklmnopqrstuvwxyz", MinCount: 4}.Build()},
		}.Build()}.Build(),
	} {
		p, err := newPasswordSource(creds)
		if err != nil {
			t.Fatal(err)
		}
		for range 200 {
			pw, err := p.next()
			if err != nil {
				t.Fatal(err)
			}
			if len(pw) != p.length || !passwordMeetsPolicy(pw) {
				t.Fatalf("drew %q (length %d, want %d) for %v", pw, len(pw), p.length, creds)
			}
		}
	}
	if _, err := newPasswordSource(v2.LocalCredentialOptions_builder{
		RandomPassword: v2.LocalCredentialOptions_RandomPassword_builder{Length: 4}.Build(),
	}.Build()); status.Code(err) != codes.InvalidArgument {
		t.Errorf("length 4: %v, want InvalidArgument", err)
	}
	if _, err := newPasswordSource(v2.LocalCredentialOptions_builder{
		PlaintextPassword: v2.LocalCredentialOptions_PlaintextPassword_builder{PlaintextPassword: "x"}.Build(),
	}.Build()); status.Code(err) != codes.InvalidArgument {
		t.Errorf("plaintext password: %v, want InvalidArgument", err)
	}
}

func TestPasswordSourceAdjust(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reveal  bool
		length  int
		reasons []string
		want    int
		wantErr string
	}{
		{name: "repeating characters: same length", reveal: true, length: 20, reasons: []string{"error-password-policy-not-met-repeatingCharacters"}, want: 20},
		{name: "no reasons: same length", reveal: true, length: 20, reasons: []string{"error-password-policy-not-met"}, want: 20},
		{name: "too short: doubled", reveal: true, length: 20, reasons: []string{"error-password-policy-not-met-minLength"}, want: 40},
		{name: "too short: capped", reveal: true, length: 100, reasons: []string{"error-password-policy-not-met-minLength"}, want: maxPasswordLength},
		{name: "too short at the cap", reveal: true, length: maxPasswordLength, reasons: []string{"error-password-policy-not-met-minLength"}, wantErr: "more than 128"},
		{name: "too long, revealed: not shortened", reveal: true, length: 20, reasons: []string{"error-password-policy-not-met-maxLength"}, wantErr: "Accounts_Password_Policy_MaxLength"},
		{name: "too long, unrevealed: halved", length: 40, reasons: []string{"error-password-policy-not-met-maxLength"}, want: 20},
		{name: "too long, unrevealed: not below 16", length: 20, reasons: []string{"error-password-policy-not-met-maxLength"}, want: 16},
		{name: "too long at 16", length: 16, reasons: []string{"error-password-policy-not-met-maxLength"}, wantErr: "maximum length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &passwordSource{length: tc.length, reveal: tc.reveal}
			err := p.adjust(tc.reasons)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("adjust: %v, want an error mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || p.length != tc.want {
				t.Fatalf("adjust: length %d, %v; want %d", p.length, err, tc.want)
			}
		})
	}
}

func TestPasswordPolicyRefusal(t *testing.T) {
	details := func(rules ...string) json.RawMessage {
		var d []map[string]string
		for _, r := range rules {
			d = append(d, map[string]string{"error": r, "message": "..."})
		}
		raw, _ := json.Marshal(d)
		return raw
	}
	for _, tc := range []struct {
		name    string
		err     error
		refused bool
		reasons []string
	}{
		{name: "current servers", err: &client.APIError{StatusCode: 400, ErrorType: "error-password-policy-not-met",
			Details: details("error-password-policy-not-met-minLength", "error-password-policy-not-met-oneSpecial")},
			refused: true, reasons: []string{"error-password-policy-not-met-minLength", "error-password-policy-not-met-oneSpecial"}},
		{name: "current servers, no details", err: &client.APIError{StatusCode: 400, ErrorType: "error-password-policy-not-met"},
			refused: true, reasons: []string{"error-password-policy-not-met"}},
		{name: "older servers", err: &client.APIError{StatusCode: 400, ErrorType: "error-password-policy-not-met-repeatingCharacters"},
			refused: true, reasons: []string{"error-password-policy-not-met-repeatingCharacters"}},
		{name: "not a 400", err: &client.APIError{StatusCode: 500, ErrorType: "error-password-policy-not-met"}},
		{name: "another refusal", err: &client.APIError{StatusCode: 400, ErrorType: "error-field-unavailable"}},
		{name: "not an API error", err: status.Error(codes.Unavailable, "connection reset")},
		{name: "no error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reasons, refused := client.PasswordPolicyRefusal(tc.err)
			if refused != tc.refused || strings.Join(reasons, ",") != strings.Join(tc.reasons, ",") {
				t.Errorf("passwordPolicyRefusal = %v, %v; want %v, %v", reasons, refused, tc.reasons, tc.refused)
			}
		})
	}
}

func TestUnavailableField(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *client.APIError
		want string
	}{
		{name: "username in details", err: &client.APIError{ErrorType: "error-field-unavailable", Details: json.RawMessage(`{"method":"insertOrUpdateUser","field":"Alice"}`),
			Message: "Alice is already in use :( [error-field-unavailable]"}, want: "alice"},
		{name: "e-mail in details", err: &client.APIError{ErrorType: "error-field-unavailable", Details: json.RawMessage(`{"field":"alice@example.com"}`)}, want: "alice@example.com"},
		{name: "e-mail in the message", err: &client.APIError{ErrorType: "error-field-unavailable", Message: "alice@example.com is already in use :( [error-field-unavailable]"}, want: "alice@example.com"},
		{name: "unknown", err: &client.APIError{ErrorType: "error-field-unavailable", Message: "in use"}, want: ""},
	} {
		if got := client.UnavailableField(tc.err, "alice", "alice@example.com"); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
