// amqp091-go consuming a stream: declares it, publishes three messages with
// confirms, consumes from x-stream-offset "first" with a prefetch (as streams
// require) and manual acks, and reports each delivery's body and
// x-stream-offset header. Prints one JSON document. Usage: amqp091_stream URL ID
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
	q := id + ".go-stream"
	_, err = ch.QueueDeclare(q, true, false, false, false, amqp.Table{"x-queue-type": "stream"})
	must(err)
	must(ch.Confirm(false))
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 10))
	for i := 0; i < 3; i++ {
		must(ch.Publish("", q, false, false, amqp.Publishing{Body: []byte(fmt.Sprintf("g%d", i))}))
		select {
		case c := <-confirms:
			if !c.Ack {
				must(fmt.Errorf("nacked"))
			}
		case <-time.After(5 * time.Second):
			must(fmt.Errorf("no confirm"))
		}
	}
	must(ch.Qos(10, 0, false))
	deliveries, err := ch.Consume(q, "", false, false, false, false, amqp.Table{"x-stream-offset": "first"})
	must(err)
	got := []result{}
	for len(got) < 3 {
		select {
		case d := <-deliveries:
			got = append(got, result{"body": string(d.Body), "offset": d.Headers["x-stream-offset"], "redelivered": d.Redelivered})
			must(d.Ack(false))
		case <-time.After(5 * time.Second):
			must(fmt.Errorf("only %d deliveries", len(got)))
		}
	}
	_, err = ch.QueueDelete(q, false, false, false)
	must(err)
	json.NewEncoder(os.Stdout).Encode(result{"deliveries": got})
}
