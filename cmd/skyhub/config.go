package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// printConfig prints the effective configuration, secrets masked.
func printConfig(args, environ []string) int {
	c, err := loadConfig("config", args, environ, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "skyhub: invalid configuration:\n%v\n", err)
		return 2
	}
	for k := range c.AWS.Credentials {
		c.AWS.Credentials[k] = "********"
	}
	b, _ := json.MarshalIndent(c, "", "  ")
	fmt.Println(string(b))
	return 0
}
