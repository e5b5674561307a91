package sigv4

import (
	"bufio"
	"io"
	"net/url"
)

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }

func urlQ(s string) string { return url.QueryEscape(s) }
