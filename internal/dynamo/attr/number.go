package attr

import (
	"errors"
	"math/big"
	"strings"
)

// Number errors (the messages are DynamoDB's).
var (
	ErrNotNumber  = errors.New("The parameter cannot be converted to a numeric value")
	ErrPrecision  = errors.New("Attempting to store more than 38 significant digits in a Number")
	ErrOverflow   = errors.New("Number overflow. Attempting to store a number with magnitude larger than supported range")
	ErrUnderflow  = errors.New("Number underflow. Attempting to store a number with magnitude smaller than supported range")
	errEmptyDigit = ErrNotNumber
)

// decimal is 0.digits × 10^exp, digits without leading or trailing zeros;
// zero has no digits.
type decimal struct {
	neg    bool
	digits string
	exp    int
}

func parseDecimal(s string) (decimal, error) {
	var d decimal
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		d.neg = s[i] == '-'
		i++
	}
	start := i
	dot := -1
	nd := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			nd++
			continue
		}
		if c == '.' && dot < 0 {
			dot = nd
			continue
		}
		break
	}
	// the mantissa digits: a substring, or two joined around the point
	m := s[start:i]
	if dot >= 0 {
		m = s[start:start+dot] + s[start+dot+1:i]
	}
	if nd == 0 {
		return d, errEmptyDigit
	}
	exp := 0
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return d, ErrNotNumber
		}
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return d, ErrNotNumber
		}
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return d, ErrNotNumber
			}
			if exp < 100000 {
				exp = exp*10 + int(c-'0')
			}
		}
		if eneg {
			exp = -exp
		}
	}
	if dot < 0 {
		dot = nd
	}
	// strip leading zeros
	lead := 0
	for lead < len(m) && m[lead] == '0' {
		lead++
	}
	m = m[lead:]
	dot -= lead
	m = strings.TrimRight(m, "0")
	if m == "" {
		return decimal{}, nil
	}
	d.digits = m
	d.exp = dot + exp
	return d, nil
}

func (d decimal) check() error {
	if d.digits == "" {
		return nil
	}
	if len(d.digits) > 38 {
		return ErrPrecision
	}
	if d.exp > 126 {
		return ErrOverflow
	}
	if d.exp < -129 {
		return ErrUnderflow
	}
	return nil
}

func (d decimal) String() string {
	if d.digits == "" {
		return "0"
	}
	var b strings.Builder
	if d.neg {
		b.WriteByte('-')
	}
	n := len(d.digits)
	switch {
	case d.exp >= n:
		b.WriteString(d.digits)
		for i := n; i < d.exp; i++ {
			b.WriteByte('0')
		}
	case d.exp > 0:
		b.WriteString(d.digits[:d.exp])
		b.WriteByte('.')
		b.WriteString(d.digits[d.exp:])
	default:
		b.WriteString("0.")
		for i := d.exp; i < 0; i++ {
			b.WriteByte('0')
		}
		b.WriteString(d.digits)
	}
	return b.String()
}

// NormalizeNumber validates a DynamoDB number and returns its canonical text.
func NormalizeNumber(s string) (string, error) {
	if canonicalInt(s) {
		return s, nil
	}
	d, err := parseDecimal(s)
	if err != nil {
		return "", err
	}
	if err := d.check(); err != nil {
		return "", err
	}
	return d.String(), nil
}

// canonicalInt reports whether s is an integer already in canonical form
// ("0", or an optional '-' and 1 to 38 digits without a leading zero), which
// NormalizeNumber returns unchanged.
func canonicalInt(s string) bool {
	if s == "0" {
		return true
	}
	d := s
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 38 || d[0] == '0' {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

func cmpDecimal(a, b decimal) int {
	sa, sb := sign(a), sign(b)
	if sa != sb {
		if sa < sb {
			return -1
		}
		return 1
	}
	if sa == 0 {
		return 0
	}
	c := cmpMag(a, b)
	if sa < 0 {
		return -c
	}
	return c
}

func sign(d decimal) int {
	if d.digits == "" {
		return 0
	}
	if d.neg {
		return -1
	}
	return 1
}

func cmpMag(a, b decimal) int {
	if a.exp != b.exp {
		if a.exp < b.exp {
			return -1
		}
		return 1
	}
	return cmpStr(a.digits, b.digits)
}

// CompareNumbers orders two number strings numerically (unparsable sorts as 0).
func CompareNumbers(a, b string) int {
	if a == b {
		return 0
	}
	da, _ := parseDecimal(a)
	db, _ := parseDecimal(b)
	return cmpDecimal(da, db)
}

// mant returns the decimal as integer × 10^scale.
func (d decimal) mant() (*big.Int, int) {
	m := new(big.Int)
	if d.digits == "" {
		return m, 0
	}
	m.SetString(d.digits, 10)
	if d.neg {
		m.Neg(m)
	}
	return m, d.exp - len(d.digits)
}

// AddNumbers returns a+b (or a-b when sub) as a normalised number, checking
// precision and range.
func AddNumbers(a, b string, sub bool) (string, error) {
	da, err := parseDecimal(a)
	if err != nil {
		return "", err
	}
	db, err := parseDecimal(b)
	if err != nil {
		return "", err
	}
	ma, sa := da.mant()
	mb, sb := db.mant()
	lo := min(sa, sb)
	ten := big.NewInt(10)
	ma.Mul(ma, new(big.Int).Exp(ten, big.NewInt(int64(sa-lo)), nil))
	mb.Mul(mb, new(big.Int).Exp(ten, big.NewInt(int64(sb-lo)), nil))
	if sub {
		ma.Sub(ma, mb)
	} else {
		ma.Add(ma, mb)
	}
	neg := ma.Sign() < 0
	ds := new(big.Int).Abs(ma).String()
	r, err := parseDecimal(ds + "e" + itoa(lo))
	if err != nil {
		return "", err
	}
	r.neg = neg && r.digits != ""
	if err := r.check(); err != nil {
		return "", err
	}
	return r.String(), nil
}

func itoa(i int) string { return big.NewInt(int64(i)).String() }
