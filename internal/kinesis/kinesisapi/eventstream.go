package kinesisapi

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"net/http"
	"time"

	"skyhub/internal/kinesis"
)

// eventMessage frames one application/vnd.amazon.eventstream message:
// total length, headers length, prelude CRC, string headers, payload,
// message CRC (all CRC32/IEEE, big-endian).
func eventMessage(headers [][2]string, payload []byte) []byte {
	var hb []byte
	for _, h := range headers {
		hb = append(hb, byte(len(h[0])))
		hb = append(hb, h[0]...)
		hb = append(hb, 7) // string
		hb = binary.BigEndian.AppendUint16(hb, uint16(len(h[1])))
		hb = append(hb, h[1]...)
	}
	total := 12 + len(hb) + len(payload) + 4
	m := make([]byte, 0, total)
	m = binary.BigEndian.AppendUint32(m, uint32(total))
	m = binary.BigEndian.AppendUint32(m, uint32(len(hb)))
	m = binary.BigEndian.AppendUint32(m, crc32.ChecksumIEEE(m[:8]))
	m = append(m, hb...)
	m = append(m, payload...)
	return binary.BigEndian.AppendUint32(m, crc32.ChecksumIEEE(m))
}

func (h *Handler) subscribe(w http.ResponseWriter, r *http.Request, isCBOR bool, body []byte) {
	var in struct {
		ConsumerARN      string `json:"ConsumerARN"`
		ShardID          string `json:"ShardId"`
		StartingPosition *struct {
			Type           string `json:"Type"`
			SequenceNumber string `json:"SequenceNumber"`
			Timestamp      epoch  `json:"Timestamp"`
		} `json:"StartingPosition"`
	}
	if err := decode("SubscribeToShard", isCBOR, body, &in); err != nil {
		writeError(w, r, isCBOR, err)
		return
	}
	var v validator
	v.arn("consumerARN", in.ConsumerARN, true)
	if in.ShardID == "" {
		v.add(nil, "shardId", "not be null")
	}
	if in.StartingPosition == nil {
		v.add(nil, "startingPosition", "not be null")
	} else {
		v.oneOf("startingPosition.type", in.StartingPosition.Type, true, "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
	}
	if err := v.err(); err != nil {
		writeError(w, r, isCBOR, err)
		return
	}
	sp := in.StartingPosition
	ctx := r.Context()
	sub, err := h.svc.Subscribe(ctx, in.ConsumerARN, in.ShardID, sp.Type, sp.SequenceNumber, sp.Timestamp.ptr())
	if err != nil {
		writeError(w, r, isCBOR, err)
		return
	}
	ct := "application/json"
	if isCBOR {
		ct = "application/cbor"
	}
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	send := func(event string, payload []byte) bool {
		if isCBOR {
			if b, err := jsonToCBOR(payload); err == nil {
				payload = b
			}
		}
		msg := eventMessage([][2]string{{":event-type", event}, {":content-type", ct}, {":message-type", "event"}}, payload)
		if _, err := w.Write(msg); err != nil {
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return true
	}
	if !send("initial-response", []byte("{}")) {
		return
	}
	for {
		ev, ok, err := sub.Next(ctx, time.Second)
		if err != nil || !ok {
			if err != nil && ctx.Err() == nil {
				_, code, msg := awsCode(err)
				b, _ := json.Marshal(map[string]string{"message": msg})
				w.Write(eventMessage([][2]string{{":exception-type", code}, {":content-type", ct}, {":message-type", "exception"}}, b))
			}
			return
		}
		b, _ := json.Marshal(ev)
		if !send("SubscribeToShardEvent", b) {
			return
		}
	}
}

var _ = kinesis.SubscriptionTTL
