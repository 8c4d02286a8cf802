<?php
// Scenarios for the PHP client php-amqplib (Debian's php-amqplib 3.5,
// AMQPStreamConnection), run against a broker URL; prints one JSON document.
// Usage: php phpamqplib_scenarios.php SCENARIO URL ID
declare(strict_types=1);

require_once getenv('WARREN_PHP_AMQPLIB_AUTOLOAD') ?: '/usr/share/php/PhpAmqpLib/autoload.php';

use PhpAmqpLib\Connection\AMQPStreamConnection;
use PhpAmqpLib\Exception\AMQPProtocolChannelException;
use PhpAmqpLib\Exception\AMQPTimeoutException;
use PhpAmqpLib\Message\AMQPMessage;
use PhpAmqpLib\Wire\AMQPTable;

function connect(string $url, array $opts = []): AMQPStreamConnection
{
    $u = parse_url($url);
    $vhost = isset($u['path']) && $u['path'] !== '' && $u['path'] !== '/' ? urldecode(substr($u['path'], 1)) : '/';
    return new AMQPStreamConnection(
        $u['host'], $u['port'] ?? 5672, urldecode($u['user'] ?? 'guest'), urldecode($u['pass'] ?? 'guest'), $vhost,
        false, $opts['login_method'] ?? 'AMQPLAIN', null, 'en_US',
        3.0, 5.0, null, false, $opts['heartbeat'] ?? 0, 0.0
    );
}

function props(AMQPMessage $m): array
{
    $out = [];
    foreach (['content_type', 'content_encoding', 'delivery_mode', 'priority', 'correlation_id', 'reply_to', 'expiration',
              'message_id', 'timestamp', 'type', 'user_id', 'app_id', 'cluster_id'] as $k) {
        $out[$k] = $m->has($k) ? $m->get($k) : null;
    }
    $out['headers'] = $m->has('application_headers') ? $m->get('application_headers')->getNativeData() : null;
    return $out;
}

function strip_id($v, string $id)
{
    if (is_string($v)) return str_replace($id, 'ID', $v);
    if (is_array($v)) return array_map(fn($x) => strip_id($x, $id), $v);
    return $v;
}

/** Wait on the channel until $until() holds or $seconds pass. */
function pump($ch, callable $until, float $seconds): void
{
    $deadline = microtime(true) + $seconds;
    while (!$until() && microtime(true) < $deadline) {
        try {
            $ch->wait(null, false, 0.1);
        } catch (AMQPTimeoutException $e) {
        }
    }
}

function pump_quiet($ch, float $seconds): void
{
    pump($ch, fn() => false, $seconds);
}

function count_of($ch, string $q): array
{
    [, $messages, $consumers] = $ch->queue_declare($q, true);
    return [$messages, $consumers];
}

/** declare, bind, publish with properties, basic_get, basic_consume with qos 2 and ack */
function publish_consume(string $url, string $id): array
{
    $out = [];
    $conn = connect($url);
    $ch = $conn->channel();
    $ch->exchange_declare("$id.x", 'direct', false, false, false);
    [$name, $messages, $consumers] = $ch->queue_declare("$id.q", false, false, false, false);
    $out['declared'] = ['name' => $name === "$id.q", 'message_count' => $messages, 'consumer_count' => $consumers];
    $ch->queue_bind("$id.q", "$id.x", 'k');
    $full = new AMQPMessage('hello php', [
        'content_type' => 'text/plain', 'content_encoding' => 'utf-8', 'delivery_mode' => AMQPMessage::DELIVERY_MODE_PERSISTENT,
        'priority' => 3, 'correlation_id' => 'c-1', 'reply_to' => 'r.q', 'expiration' => '60000', 'message_id' => 'm-1',
        'timestamp' => 1700000000, 'type' => 'kind', 'user_id' => 'guest', 'app_id' => 'php-app',
        'application_headers' => new AMQPTable(['s' => 'str', 'i' => 7, 'neg' => -1, 'big' => 2 ** 40, 't' => true,
                                                'list' => [1, 'a', false], 'tbl' => ['x' => 1]]),
    ]);
    $ch->basic_publish($full, "$id.x", 'k');
    for ($i = 0; $i < 5; $i++) {
        $ch->basic_publish(new AMQPMessage("m$i", ['application_headers' => new AMQPTable(['seq' => $i])]), "$id.x", 'k');
    }
    $ch->basic_publish(new AMQPMessage('dropped'), "$id.x", 'other');
    $deadline = microtime(true) + 3;
    while (count_of($ch, "$id.q")[0] < 6 && microtime(true) < $deadline) usleep(20000);
    $out['message_count'] = count_of($ch, "$id.q")[0];
    $m = $ch->basic_get("$id.q");
    $out['get'] = ['delivery_tag' => $m->getDeliveryTag(), 'redelivered' => $m->isRedelivered(), 'exchange' => $m->getExchange(),
                   'routing_key' => $m->getRoutingKey(), 'message_count' => $m->getMessageCount(), 'body' => $m->getBody(),
                   'props' => props($m)];
    $m->ack();

    $ch->basic_qos(0, 2, false);
    $seen = [];
    $pending = [];
    $tag = $ch->basic_consume("$id.q", 'php-ctag', false, false, false, false, function (AMQPMessage $m) use (&$seen, &$pending) {
        $seen[] = ['tag' => $m->getDeliveryTag(), 'body' => $m->getBody(), 'redelivered' => $m->isRedelivered(),
                   'consumer_tag' => $m->getConsumerTag(), 'seq' => $m->get('application_headers')->getNativeData()['seq'] ?? null];
        $pending[] = $m;
    });
    $out['consumer_tag'] = $tag;
    pump($ch, function () use (&$seen) { return count($seen) >= 2; }, 3);
    pump_quiet($ch, 0.5);
    $out['in_flight_before_ack'] = count($seen);
    [$ready, $consumers] = count_of($ch, "$id.q");
    $out['while_consuming'] = ['ready' => $ready, 'consumers' => $consumers];
    array_shift($pending)->ack();
    pump($ch, function () use (&$seen) { return count($seen) >= 3; }, 3);
    pump_quiet($ch, 0.3);
    $out['after_one_ack'] = count($seen);
    while (count($seen) < 5) {
        $before = count($seen);
        while ($pending) array_shift($pending)->ack();
        pump($ch, function () use (&$seen, $before) { return count($seen) > $before; }, 3);
        if (count($seen) === $before) break;
    }
    while ($pending) array_shift($pending)->ack();
    $out['consumed'] = $seen;
    $ch->basic_cancel($tag);
    $out['get_empty'] = $ch->basic_get("$id.q", true) === null;
    $out['deleted'] = $ch->queue_delete("$id.q");
    $ch->exchange_delete("$id.x");
    $ch->close();
    $conn->close();
    return strip_id($out, $id);
}

/** headers exchange: bindings with x-match all/any as AMQPTable arguments */
function headers_exchange(string $url, string $id): array
{
    $conn = connect($url);
    $ch = $conn->channel();
    $ch->exchange_declare("$id.hx", 'headers', false, false, false);
    $bindings = [
        'all_pdf_report' => ['x-match' => 'all', 'format' => 'pdf', 'type' => 'report'],
        'any_pdf_or_log' => ['x-match' => 'any', 'format' => 'pdf', 'type' => 'log'],
        'int_level' => ['level' => 3],
        'no_args' => [],
    ];
    foreach ($bindings as $q => $args) {
        $ch->queue_declare("$id.$q", false, false, false, false);
        $ch->queue_bind("$id.$q", "$id.hx", 'ignored', false, new AMQPTable($args));
    }
    $msgs = [
        'pdf_report' => ['format' => 'pdf', 'type' => 'report'],
        'pdf_report_extra' => ['format' => 'pdf', 'type' => 'report', 'extra' => true],
        'pdf_only' => ['format' => 'pdf'],
        'log_zip' => ['format' => 'zip', 'type' => 'log'],
        'zip_report' => ['format' => 'zip', 'type' => 'report'],
        'level_3' => ['level' => 3],
        'level_3_string' => ['level' => '3'],
        'no_headers' => null,
    ];
    foreach ($msgs as $body => $headers) {
        $p = $headers === null ? [] : ['application_headers' => new AMQPTable($headers)];
        $ch->basic_publish(new AMQPMessage($body, $p), "$id.hx", 'any-key');
    }
    $ch->confirm_select();
    $ch->basic_publish(new AMQPMessage('fence'), '', "$id.no_args");
    $ch->wait_for_pending_acks(5);
    $got = [];
    foreach ($bindings as $q => $_) {
        $got[$q] = [];
        while (($m = $ch->basic_get("$id.$q", true)) !== null) $got[$q][] = $m->getBody();
        $ch->queue_delete("$id.$q");
    }
    $ch->exchange_delete("$id.hx");
    $ch->close();
    $conn->close();
    return ['routed' => $got];
}

/** publisher confirms: confirm_select + wait_for_pending_acks, and with a mandatory return */
function confirms(string $url, string $id): array
{
    $out = [];
    $conn = connect($url);
    $ch = $conn->channel();
    $acks = [];
    $nacks = [];
    $returns = [];
    $ch->set_ack_handler(function (AMQPMessage $m) use (&$acks) { $acks[] = $m->getBody(); });
    $ch->set_nack_handler(function (AMQPMessage $m) use (&$nacks) { $nacks[] = $m->getBody(); });
    $ch->set_return_listener(function ($code, $text, $exchange, $rk, AMQPMessage $m) use (&$returns, $id) {
        $returns[] = ['reply_code' => $code, 'reply_text' => $text, 'exchange' => str_replace($id, 'ID', $exchange),
                      'routing_key' => $rk, 'body' => $m->getBody()];
    });
    [$q] = $ch->queue_declare("$id.cq", false, false, false, false);
    $ch->confirm_select();
    for ($i = 0; $i < 10; $i++) $ch->basic_publish(new AMQPMessage("c$i"), '', $q);
    $ch->wait_for_pending_acks(5);
    $out['acked_first'] = $acks;
    $out['nacked_first'] = $nacks;
    $acks = [];
    $ch->exchange_declare("$id.cx", 'direct', false, false, false);
    $ch->basic_publish(new AMQPMessage('routed'), '', $q, true);
    $ch->basic_publish(new AMQPMessage('nowhere'), "$id.cx", 'nope', true);
    $ch->basic_publish(new AMQPMessage('last'), '', $q);
    $ch->wait_for_pending_acks_returns(5);
    // the order of confirms for different publishes is not guaranteed (RabbitMQ confirms an unroutable
    // message at once, routed ones after the queue has them: its order varies run to run)
    sort($acks);
    $out['acked_second'] = $acks;
    $out['returned'] = $returns;
    $out['message_count'] = count_of($ch, $q)[0];
    $ch->queue_delete($q);
    $ch->exchange_delete("$id.cx");
    $ch->close();
    $conn->close();
    return $out;
}

function channel_exception(AMQPProtocolChannelException $e): array
{
    return ['exception' => get_class($e), 'code' => $e->getCode(), 'message' => $e->getMessage(), 'method_sig' => $e->amqp_method_sig];
}

/** channel errors: passive declare of a missing queue / exchange, basic_get of a missing queue */
function channel_error(string $url, string $id): array
{
    $out = [];
    $conn = connect($url);
    $ch = $conn->channel();
    try {
        $ch->queue_declare("$id.missing", true);
        $out['passive_queue'] = 'no error';
    } catch (AMQPProtocolChannelException $e) {
        $out['passive_queue'] = channel_exception($e);
    }
    $out['channel_is_open'] = $ch->is_open();
    $ch = $conn->channel();
    try {
        $ch->exchange_declare("$id.missing-ex", 'direct', true);
        $out['passive_exchange'] = 'no error';
    } catch (AMQPProtocolChannelException $e) {
        $out['passive_exchange'] = channel_exception($e);
    }
    $ch = $conn->channel();
    try {
        $ch->basic_get("$id.missing");
        $out['get_missing'] = 'no error';
    } catch (AMQPProtocolChannelException $e) {
        $out['get_missing'] = channel_exception($e);
    }
    $ch = $conn->channel();
    $ch->queue_declare("$id.ok", false, false, false, false);
    $ch->queue_delete("$id.ok");
    $out['connection_open'] = $conn->isConnected();
    $ch->close();
    $conn->close();
    return strip_id($out, $id);
}

function capabilities(array $sp): array
{
    $caps = [];
    foreach ($sp['capabilities'][1] as $k => [$type, $v]) $caps[$k] = [$type, $v];
    ksort($caps);
    return $caps;
}

/** connect with AMQPLAIN (php-amqplib's default) and PLAIN; heartbeat 10; server properties */
function session(string $url, string $id): array
{
    $out = [];
    foreach (['AMQPLAIN', 'PLAIN'] as $method) {
        $conn = connect($url, ['login_method' => $method, 'heartbeat' => 10]);
        $sp = $conn->getServerProperties();
        $keys = array_keys($sp);
        sort($keys);
        $out[$method] = ['connected' => $conn->isConnected(), 'heartbeat' => $conn->getHeartbeat(),
                         'server_property_keys' => $keys, 'capabilities' => capabilities($sp)];
        $ch = $conn->channel();
        $out[$method]['channel_id'] = $ch->getChannelId();
        $ch->close();
        $conn->close();
        $out[$method]['closed'] = !$conn->isConnected();
    }
    return $out;
}

$scenarios = ['publish-consume' => 'publish_consume', 'headers' => 'headers_exchange', 'confirms' => 'confirms',
              'channel-error' => 'channel_error', 'session' => 'session'];
[, $scenario, $url] = $argv;
$id = $argv[3] ?? 'php';
echo json_encode(($scenarios[$scenario])($url, $id), JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR), "\n";
