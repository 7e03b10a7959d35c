// Added by HELK's e2e build: the newest language host source available here predates the SDK version the
// lockfile pins, whose ResourceMonitor service has more methods. They are forwarded to the engine like the
// others in proxy.go.

package main

import (
	"context"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func (p *monitorProxy) ExistsResource(
	ctx context.Context, req *pulumirpc.ExistsResourceRequest,
) (*pulumirpc.ExistsResourceResponse, error) {
	return p.target.ExistsResource(ctx, req)
}
