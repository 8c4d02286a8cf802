// amqp091-go against a queue with x-message-deduplication: publishes with
// confirms, retries each message once, and reports what the queue kept.
// Prints one JSON document. Usage: amqp091_dedup URL ID
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

type result map[string]interface{}

func must(err error) {
	if err != nil {
		json.NewEncoder(os.Stdout).Encode(result{"fatal": err.Error()})
		os.Exit(1)
	}
}

func main() {
	url, id := os.Args[1], os.Args[2]
	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	must(err)
	defer conn.Close()
	ch, err := conn.Channel()
	must(err)
	q := id + ".go-dedup"
	_, err = ch.QueueDeclare(q, false, false, true, false, amqp.Table{"x-message-deduplication": true, "x-cache-size": int32(100)})
	must(err)
	must(ch.Confirm(false))
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 100))
	acks := []bool{}
	for attempt := 0; attempt < 2; attempt++ {
		for i := 0; i < 5; i++ {
			msg := amqp.Publishing{Body: []byte(fmt.Sprintf("m%d-try%d", i, attempt)), Headers: amqp.Table{"x-deduplication-header": fmt.Sprintf("id-%d", i)}}
			must(ch.Publish("", q, false, false, msg))
			select {
			case c := <-confirms:
				acks = append(acks, c.Ack)
			case <-time.After(5 * time.Second):
				must(fmt.Errorf("no confirm"))
			}
		}
	}
	bodies := []string{}
	for {
		d, ok, err := ch.Get(q, true)
		must(err)
		if !ok {
			break
		}
		bodies = append(bodies, string(d.Body))
	}
	json.NewEncoder(os.Stdout).Encode(result{"acks": acks, "bodies": bodies})
}
