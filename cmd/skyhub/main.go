// Command skyhub runs the Skyhub self-hosted IoT cloud: the SkyNet device
// hub, the WAMP router and the AWS services, in one process.
//
//	skyhub [serve] [-config file] [-data dir] [-port n]   run the platform (default)
//	skyhub version                                        print the version
//	skyhub config [-config file] [...]                    print the effective configuration
package main

import (
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Environ()))
}

func run(args []string, environ []string) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, environ)
	case "version":
		fmt.Println("skyhub", version)
		return 0
	case "config":
		return printConfig(args, environ)
	case "help":
		usage()
		return 0
	default:
		fmt.Fprintf(os.Stderr, "skyhub: unknown command %q\n", cmd)
		usage()
		return 2
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: skyhub [command] [flags]

commands:
  serve     run the platform (the default)
  version   print the version
  config    print the effective configuration as JSON

flags (serve, config):
  -config file   JSON config file (keys: port, rateLimit, log, dataDir, skynet, wamp, aws, runtime)
  -data dir      data directory (default ./data; ":memory:" keeps nothing)
  -port n        main HTTP port (default 3000; env PORT or SKYHUB_PORT)
`)
}
