package connector_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/conductorone/baton-rocketchat/internal/testenv"
	"google.golang.org/grpc/codes"
)

// A 404 on one settings/:_id read after others on the same route answered
// is a fault (a proxy, a rolling restart), not a missing route: the change
// of LDAP-managed access fails (Aborted, try again) rather than go through
// on a mapping read halfway.
func TestProvisionFailsWhenASettingReadFailsMidway(t *testing.T) {
	p := startProvisioning(t, ldapWorkspace(), adminCred)
	p.sim.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/settings/LDAP_Groups_To_Rocket_Chat_Teams") {
			w.WriteHeader(http.StatusNotFound)
			return true
		}
		return false
	})
	_, err := p.grant(engEntitlement("member"), carolID)
	testenv.WantCode(t, err, codes.Aborted, "LDAP")
	p.wantPosts(nil)
}
