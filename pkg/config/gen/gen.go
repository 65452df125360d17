// Command gen writes conf.gen.go, the typed struct for the configuration schema.
package main

import (
	cfg "github.com/conductorone/baton-rocketchat/pkg/config"
	"github.com/conductorone/baton-sdk/pkg/config"
)

func main() {
	config.Generate("rocketchat", cfg.Configuration)
}
