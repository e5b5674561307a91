package main

import (
	"flag"
	"io"

	"skyhub/internal/config"
)

// loadConfig reads defaults, the config file, the environment and the flags,
// in that order, and validates the result.
func loadConfig(name string, args []string, environ []string, stderr io.Writer) (config.Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "JSON config file")
	data := fs.String("data", "", "data directory")
	port := fs.Int("port", -1, "main HTTP port")
	if err := fs.Parse(args); err != nil {
		return config.Config{}, err
	}
	if *file == "" {
		for _, kv := range environ {
			if len(kv) > 14 && kv[:14] == "SKYHUB_CONFIG=" {
				*file = kv[14:]
			}
		}
	}
	c, err := config.Load(*file, environ)
	if err != nil {
		return c, err
	}
	if *data != "" {
		c.DataDir = *data
	}
	if *port >= 0 {
		c.Port = *port
	}
	return c, c.Validate()
}
