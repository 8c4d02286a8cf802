# Scenarios for the Ruby client Bunny (Debian's ruby-bunny 2.19), run against a
# broker URL; prints one JSON document.  Usage: bunny_scenarios.rb SCENARIO URL ID
require "bunny"
require "json"
require "logger"

def connect(url, **opts)
  conn = Bunny.new(url, connection_timeout: 5, read_timeout: 5, write_timeout: 5, continuation_timeout: 5000,
                        automatically_recover: false, recover_from_connection_close: false,
                        logger: Logger.new($stderr, level: Logger::ERROR), **opts)
  conn.start
  conn
end

def wait_until(timeout = 5)
  deadline = Time.now + timeout
  sleep 0.02 until yield || Time.now > deadline
end

def props(p)
  h = p.to_hash
  %i[content_type content_encoding headers delivery_mode priority correlation_id reply_to expiration
     message_id timestamp type user_id app_id cluster_id].to_h do |k|
    v = h[k]
    v = v.to_i if v.is_a?(Time)
    [k, v]
  end
end

def strip_id(v, id)
  case v
  when String then v.gsub(id, "ID")
  when Hash then v.to_h { |k, x| [k, strip_id(x, id)] }
  when Array then v.map { |x| strip_id(x, id) }
  else v
  end
end

# session start, negotiated tune values, server properties, channel open/close
def session(url, id)
  out = {}
  conn = connect(url)
  out[:default] = { heartbeat: conn.heartbeat, frame_max: conn.frame_max, channel_max: conn.channel_max,
                    open: conn.open?, status: conn.status.to_s }
  sp = conn.server_properties
  out[:server_property_keys] = sp.keys.map(&:to_s).sort
  out[:capabilities] = sp["capabilities"]
  ch = conn.create_channel
  out[:channel] = { number: ch.number, open: ch.open? }
  ch.close
  out[:channel_after_close] = { open: ch.open?, closed: ch.closed? }
  conn.close
  out[:closed] = conn.closed?
  conn = connect(url, heartbeat: 10, frame_max: 8192, channel_max: 64)
  out[:asked] = { heartbeat: conn.heartbeat, frame_max: conn.frame_max, channel_max: conn.channel_max }
  conn.close
  out
end

# queue/exchange declare, bind, publish with properties, basic.get (pop), ack, counts
def publish_get(url, id)
  out = {}
  conn = connect(url)
  ch = conn.create_channel
  x = ch.direct("#{id}.x", durable: false)
  q = ch.queue("#{id}.q", durable: false, auto_delete: false)
  out[:declared] = { name: q.name == "#{id}.q", message_count: q.message_count, consumer_count: q.consumer_count }
  q.bind(x, routing_key: "k")
  x.publish("hello bunny", routing_key: "k", content_type: "text/plain", content_encoding: "utf-8",
            headers: { "s" => "str", "i" => 7, "neg" => -1, "big" => 2**40, "f" => 1.5, "t" => true, "list" => [1, "a", false],
                       "tbl" => { "x" => 1 } },
            persistent: true, priority: 3, correlation_id: "c-1", reply_to: "r.q", expiration: "60000",
            message_id: "m-1", timestamp: 1_700_000_000, type: "kind", user_id: "guest", app_id: "bunny-app")
  x.publish("second", routing_key: "k")
  x.publish("dropped", routing_key: "other")
  wait_until(3) { q.message_count >= 2 }
  out[:message_count] = q.message_count
  di, p, body = q.pop(manual_ack: true)
  out[:get] = { delivery_tag: di.delivery_tag.to_i, redelivered: di.redelivered?, exchange: di.exchange,
                routing_key: di.routing_key, body: body, props: props(p) }
  ch.ack(di.delivery_tag)
  di, p, body = q.pop(manual_ack: false)
  out[:get2] = { delivery_tag: di.delivery_tag.to_i, body: body, props: props(p) }
  out[:get_empty] = q.pop.map(&:nil?)
  x.publish("to purge", routing_key: "k")
  wait_until(3) { q.message_count >= 1 }
  out[:purged] = ch.queue_purge(q.name).message_count
  out[:deleted] = q.delete.message_count
  x.delete
  conn.close
  strip_id(out, id)
end

# subscribe with manual_ack and prefetch 2
def subscribe(url, id)
  out = {}
  conn = connect(url)
  ch = conn.create_channel
  q = ch.queue("#{id}.work", durable: false)
  5.times { |i| ch.default_exchange.publish("m#{i}", routing_key: q.name, headers: { "seq" => i }) }
  wait_until(3) { q.message_count >= 5 }
  cch = conn.create_channel
  cch.prefetch(2)
  out[:prefetch] = cch.prefetch_count
  seen = Queue.new
  log = []
  consumer = cch.queue(q.name, passive: true).subscribe(manual_ack: true, consumer_tag: "bunny-ctag") do |di, p, body|
    seen << di
    log << { tag: di.delivery_tag.to_i, body: body, seq: p.headers && p.headers["seq"], redelivered: di.redelivered?,
             consumer_tag: di.consumer_tag }
  end
  wait_until(3) { seen.size >= 2 }
  sleep 0.5
  out[:in_flight_before_ack] = log.size
  out[:ready_before_ack] = q.message_count
  out[:consumers] = q.consumer_count
  cch.ack(seen.pop.delivery_tag)
  wait_until(3) { log.size >= 3 }
  sleep 0.3
  out[:after_one_ack] = log.size
  until log.size >= 5
    before = log.size
    cch.ack(seen.pop.delivery_tag) until seen.empty?
    wait_until(3) { log.size > before }
    break if log.size == before
  end
  cch.ack(seen.pop.delivery_tag) until seen.empty?
  consumer.cancel
  out[:log] = log
  out[:ready_after] = q.message_count
  out[:consumers_after] = q.consumer_count
  q.delete
  conn.close
  out
end

# topic routing with * and # patterns
def topic(url, id)
  conn = connect(url)
  ch = conn.create_channel
  x = ch.topic("#{id}.topic", durable: false)
  patterns = { "star" => "a.*.c", "hash" => "a.#", "hash_z" => "#.z", "exact" => "a.b.c", "all" => "#" }
  queues = patterns.to_h { |k, pat| [k, ch.queue("#{id}.#{k}", durable: false).bind(x, routing_key: pat)] }
  keys = %w[a.b.c a.x.c a a.b.c.d z y.z a..c b.c]
  keys.each { |k| x.publish(k, routing_key: k) }
  wait_until(3) { queues["all"].message_count >= keys.size }
  got = queues.to_h do |k, q|
    bodies = []
    loop do
      di, _p, body = q.pop(manual_ack: false)
      break if di.nil?
      bodies << body
    end
    [k, bodies]
  end
  queues.each_value(&:delete)
  x.delete
  conn.close
  { routed: got }
end

def channel_close_view(e)
  cc = e.channel_close
  { exception: e.class.name, message: e.message, reply_code: cc.reply_code, reply_text: cc.reply_text,
    class_id: cc.class_id, method_id: cc.method_id }
end

# passive declare of a missing queue / exchange -> Bunny::NotFound
def not_found(url, id)
  out = {}
  conn = connect(url)
  ch = conn.create_channel
  begin
    ch.queue("#{id}.missing", passive: true)
    out[:passive_queue] = "no error"
  rescue Bunny::NotFound => e
    out[:passive_queue] = channel_close_view(e)
    out[:is_channel_level] = e.is_a?(Bunny::ChannelLevelException)
  end
  out[:channel_open] = ch.open?
  ch = conn.create_channel
  begin
    ch.exchange_declare("#{id}.missing-ex", "direct", passive: true)
    out[:passive_exchange] = "no error"
  rescue Bunny::NotFound => e
    out[:passive_exchange] = channel_close_view(e)
  end
  ch = conn.create_channel
  q = ch.queue("#{id}.ok", durable: false)
  q.delete
  out[:connection_open] = conn.open?
  conn.close
  strip_id(out, id)
end

# publisher confirms: confirm_select, publishes (one unroutable + mandatory), wait_for_confirms
def confirms(url, id)
  out = {}
  conn = connect(url)
  ch = conn.create_channel
  returned = []
  x = ch.direct("#{id}.cx", durable: false)
  x.on_return { |ri, _p, body| returned << { reply_code: ri.reply_code, reply_text: ri.reply_text, routing_key: ri.routing_key, body: body } }
  q = ch.queue("#{id}.cq", durable: false).bind(x, routing_key: "ok")
  out[:select_ok] = ch.confirm_select.class.name
  out[:using_publisher_confirmations] = ch.using_publisher_confirmations?
  20.times { |i| x.publish("c#{i}", routing_key: "ok") }
  x.publish("nowhere", routing_key: "nope", mandatory: true)
  out[:all_acked] = ch.wait_for_confirms
  out[:unconfirmed] = ch.unconfirmed_set.size
  out[:nacked] = ch.nacked_set.size
  out[:next_publish_seq_no] = ch.next_publish_seq_no
  wait_until(2) { !returned.empty? }
  out[:returned] = returned
  out[:message_count] = q.message_count
  # a second batch: wait_for_confirms again
  3.times { |i| ch.default_exchange.publish("d#{i}", routing_key: q.name) }
  out[:second_batch_acked] = ch.wait_for_confirms
  out[:next_publish_seq_no_after] = ch.next_publish_seq_no
  wait_until(3) { q.message_count >= 23 }
  out[:message_count_after] = q.message_count
  q.delete
  x.delete
  conn.close
  out
end

SCENARIOS = { "session" => method(:session), "publish-get" => method(:publish_get), "subscribe" => method(:subscribe),
              "topic" => method(:topic), "not-found" => method(:not_found), "confirms" => method(:confirms) }.freeze

scenario, url, id = ARGV
id ||= "bunny"
puts JSON.generate(SCENARIOS.fetch(scenario).call(url, id))
