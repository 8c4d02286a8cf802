// Scenarios for the Go client github.com/rabbitmq/amqp091-go, run against a
// broker URL; prints one JSON document. Usage: amqp091_scenarios SCENARIO URL ID
// Built with Debian's golang-github-rabbitmq-amqp091-go-dev (GOPATH mode).
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

type result map[string]interface{}

func must(err error) {
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	json.NewEncoder(os.Stdout).Encode(result{"fatal": err.Error()})
	os.Exit(1)
}

func dial(url string) *amqp.Connection {
	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	must(err)
	return conn
}

func amqpErr(err error) interface{} {
	var e *amqp.Error
	if errors.As(err, &e) {
		return result{"code": e.Code, "reason": e.Reason, "server": e.Server, "recover": e.Recover}
	}
	if err == nil {
		return nil
	}
	return result{"other": err.Error()}
}

// tune: what the broker proposes (client asks for nothing: zeros) and what a
// default Dial negotiates.
func tune(url string) result {
	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	must(err)
	proposed := result{
		"heartbeat":  int(conn.Config.Heartbeat / time.Second),
		"frameMax":   conn.Config.FrameSize,
		"channelMax": conn.Config.ChannelMax,
	}
	caps, _ := conn.Properties["capabilities"].(amqp.Table)
	major, minor := conn.Major, conn.Minor
	locales := conn.Locales
	conn.Close()

	conn2, err := amqp.Dial(url)
	must(err)
	dflt := result{
		"heartbeat":  int(conn2.Config.Heartbeat / time.Second),
		"frameMax":   conn2.Config.FrameSize,
		"channelMax": conn2.Config.ChannelMax,
	}
	conn2.Close()

	conn3, err := amqp.DialConfig(url, amqp.Config{Heartbeat: 5 * time.Second, FrameSize: 8192, ChannelMax: 16, Dial: amqp.DefaultDial(5 * time.Second)})
	must(err)
	asked := result{
		"heartbeat":  int(conn3.Config.Heartbeat / time.Second),
		"frameMax":   conn3.Config.FrameSize,
		"channelMax": conn3.Config.ChannelMax,
	}
	conn3.Close()
	return result{"proposed": proposed, "default": dflt, "asked": asked, "capabilities": caps, "version": []int{major, minor}, "locales": locales}
}

func confirms(url, id string) result {
	conn := dial(url)
	defer conn.Close()
	ch, err := conn.Channel()
	must(err)
	q, err := ch.QueueDeclare(id+".q", false, false, false, false, nil)
	must(err)
	must(ch.Confirm(false))
	acks := ch.NotifyPublish(make(chan amqp.Confirmation, 10))
	for i := 0; i < 3; i++ {
		must(ch.Publish("", q.Name, false, false, amqp.Publishing{Body: []byte(fmt.Sprintf("m%d", i)), DeliveryMode: amqp.Transient}))
	}
	var got []result
	timeout := time.After(5 * time.Second)
	for len(got) < 3 {
		select {
		case c := <-acks:
			got = append(got, result{"tag": c.DeliveryTag, "ack": c.Ack})
		case <-timeout:
			fail(errors.New("confirms timed out"))
		}
	}
	q2, err := ch.QueueDeclarePassive(id+".q", false, false, false, false, nil)
	must(err)
	_, err = ch.QueueDelete(q.Name, false, false, false)
	must(err)
	return result{"confirms": got, "messages": q2.Messages, "consumers": q2.Consumers, "declared": result{"name": q.Name == id+".q", "messages": q.Messages}}
}

// confirmsAfterNack: two publishes back to back into a queue that holds one
// (x-overflow reject-publish), five times on fresh queues: the first is acked,
// the second nacked, and nothing else is confirmed.
func confirmsAfterNack(url, id string) result {
	conn := dial(url)
	defer conn.Close()
	ch, err := conn.Channel()
	must(err)
	must(ch.Confirm(false))
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 10))
	var rounds [][]result
	for round := 0; round < 5; round++ {
		name := fmt.Sprintf("%s.q%d", id, round)
		_, err := ch.QueueDeclare(name, false, false, true, false, amqp.Table{"x-max-length": int32(1), "x-overflow": "reject-publish"})
		must(err)
		for i := 0; i < 2; i++ {
			must(ch.Publish("", name, false, false, amqp.Publishing{Body: []byte(fmt.Sprintf("m%d", i))}))
		}
		var got []result
		timeout := time.After(5 * time.Second)
		for len(got) < 2 {
			select {
			case c := <-confirms:
				got = append(got, result{"tag": c.DeliveryTag, "ack": c.Ack})
			case <-timeout:
				fail(errors.New("confirms timed out"))
			}
		}
		rounds = append(rounds, got)
		_, err = ch.QueueDelete(name, false, false, false)
		must(err)
	}
	// A sleep, not an event: what is checked is that no further confirm arrives.
	time.Sleep(200 * time.Millisecond)
	return result{"rounds": rounds, "extra": len(confirms)}
}

func consumeQos(url, id string) result {
	conn := dial(url)
	defer conn.Close()
	ch, err := conn.Channel()
	must(err)
	name := id + ".q"
	_, err = ch.QueueDeclare(name, false, false, false, false, nil)
	must(err)
	for i := 0; i < 5; i++ {
		must(ch.Publish("", name, false, false, amqp.Publishing{
			Body: []byte(fmt.Sprintf("m%d", i)), ContentType: "text/plain", MessageId: fmt.Sprintf("id-%d", i),
			Headers: amqp.Table{"i": int32(i), "s": "x", "f": 1.5, "b": true, "t": amqp.Table{"k": "v"}},
		}))
	}
	must(ch.Qos(2, 0, false))
	ds, err := ch.Consume(name, "go-consumer", false, false, false, false, nil)
	must(err)
	var first []result
	var last amqp.Delivery
	deadline := time.After(700 * time.Millisecond)
loop:
	for {
		select {
		case d := <-ds:
			last = d
			first = append(first, result{"body": string(d.Body), "tag": d.DeliveryTag, "redelivered": d.Redelivered, "consumerTag": d.ConsumerTag,
				"messageId": d.MessageId, "contentType": d.ContentType, "headers": d.Headers, "routingKey": d.RoutingKey, "exchange": d.Exchange})
		case <-deadline:
			break loop
		}
	}
	must(last.Ack(true)) // ack both
	var rest []string
	deadline2 := time.After(5 * time.Second)
	for len(rest) < 3 {
		select {
		case d := <-ds:
			rest = append(rest, string(d.Body))
			must(d.Ack(false))
		case <-deadline2:
			fail(errors.New("rest of deliveries timed out"))
		}
	}
	must(ch.Cancel("go-consumer", false))
	n, err := ch.QueueDelete(name, false, false, false)
	must(err)
	return result{"firstWindow": first, "rest": rest, "deletedCount": n}
}

func errorsScenario(url, id string) result {
	conn := dial(url)
	defer conn.Close()
	out := result{}
	ch, err := conn.Channel()
	must(err)
	_, err = ch.QueueDeclarePassive(id+".missing", false, false, false, false, nil)
	out["passiveMissingQueue"] = amqpErr(err)

	ch, err = conn.Channel()
	must(err)
	err = ch.ExchangeDeclare("amq."+id, "direct", false, false, false, false, nil)
	out["reservedExchange"] = amqpErr(err)

	ch, err = conn.Channel()
	must(err)
	_, err = ch.QueueDeclare(id+".q", false, false, false, false, nil)
	must(err)
	_, err = ch.QueueDeclare(id+".q", true, false, false, false, nil)
	out["redeclareDurable"] = amqpErr(err)

	ch, err = conn.Channel()
	must(err)
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))
	must(ch.Publish(id+".noex", "rk", false, false, amqp.Publishing{Body: []byte("x")}))
	select {
	case e := <-closed:
		out["publishMissingExchange"] = amqpErr(e)
	case <-time.After(5 * time.Second):
		out["publishMissingExchange"] = "no channel.close within 5s"
	}

	ch, err = conn.Channel()
	must(err)
	_, err = ch.QueueDelete(id+".q", false, false, false)
	must(err)
	return out
}

func main() {
	if len(os.Args) < 3 {
		fail(errors.New("usage: amqp091_scenarios SCENARIO URL [ID]"))
	}
	scenario, url := os.Args[1], os.Args[2]
	id := "go"
	if len(os.Args) > 3 {
		id = os.Args[3]
	}
	done := make(chan result, 1)
	go func() {
		switch scenario {
		case "tune":
			done <- tune(url)
		case "confirms":
			done <- confirms(url, id)
		case "confirms-after-nack":
			done <- confirmsAfterNack(url, id)
		case "consume-qos":
			done <- consumeQos(url, id)
		case "errors":
			done <- errorsScenario(url, id)
		default:
			fail(fmt.Errorf("unknown scenario %q", scenario))
		}
	}()
	select {
	case r := <-done:
		must(json.NewEncoder(os.Stdout).Encode(r))
	case <-time.After(15 * time.Second):
		fail(errors.New("scenario timed out after 15s"))
	}
}
