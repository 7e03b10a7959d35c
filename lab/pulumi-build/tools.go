//go:build tools

// Pins the CLI's main package into this module's build list.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
