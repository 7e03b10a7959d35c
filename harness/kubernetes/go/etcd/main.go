// etcd built at the version k8s.io/kubernetes pins, from its server module (the etcd binary's own module is
// not meant to be required).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
