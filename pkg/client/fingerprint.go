package client

import (
	"crypto/sha256"
	"encoding/hex"
)

// Fingerprint identifies the workspace and the credentials the client uses
// without revealing them: a SHA-256 of the base URL, the user id and the
// token. Two clients with the same fingerprint see the same permissions.
func (c *Client) Fingerprint() string {
	h := sha256.New()
	for _, part := range []string{c.base.String(), c.userID, c.token} {
		_, _ = h.Write([]byte(part)) // hash writes never fail
		_, _ = h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
