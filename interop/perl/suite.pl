#!/usr/bin/perl
# Interop suite with Perl's Net::SMPP (Debian libnet-smpp-perl) against smppd.
# Usage: perl suite.pl [host] [port]; env SMPPD_ADMIN (admin API base URL,
# for MO injection) and SMPPD_ADMIN_TOKEN (bearer token, optional).
# Prints PASS/FAIL per case and a final "N passed, M failed" line; exits
# non-zero on any failure.
use strict;
use warnings;
use Encode qw(encode);
use IO::Select;
use IO::Socket::INET;
use Net::SMPP;

my $host  = $ARGV[0] // $ENV{SMPP_HOST} // '127.0.0.1';
my $port  = $ARGV[1] // $ENV{SMPP_PORT} // 2775;
my $admin = $ENV{SMPPD_ADMIN} // '';
my $WAIT  = 5;
my $nonce = sprintf '%x%x', time, $$;
my ($passed, $failed) = (0, 0);

sub record {
    my ($name, $ok, $why) = @_;
    $ok ? $passed++ : $failed++;
    printf "%s %s%s\n", ($ok ? 'PASS' : 'FAIL'), $name, (defined $why && $why ne '' ? ": $why" : '');
}

sub cstr { my $s = shift // ''; $s =~ s/\0+\z//; return $s }

# status_of names a response's command_status the way Net::SMPP explains it.
sub status_of {
    my $pdu = shift;
    return 'no response' unless $pdu;
    return 'ESME_ROK' if $pdu->status == 0;
    return $pdu->explain_status;
}

# guarded runs a request under a deadline: Net::SMPP's synchronous calls
# otherwise wait forever for a response that never comes.
sub guarded {
    my ($what, $code) = @_;
    my @r = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm $WAIT;
        my @v = $code->();
        alarm 0;
        @v;
    };
    alarm 0;
    die "$what: no response in ${WAIT}s\n" if $@ eq "timeout\n";
    die $@ if $@;
    return wantarray ? @r : $r[0];
}

# Every session answers deliver_sm at once and keeps it for the cases.
my %delivered;    # session => [pdu, ...]

sub on_deliver {
    my ($smpp, $pdu) = @_;
    $smpp->deliver_sm_resp(seq => $pdu->seq, message_id => '');
    push @{ $delivered{$smpp} }, $pdu;
}

sub bind_as {
    my ($mode, $system_id, $password) = @_;
    my $ctor = "new_$mode";
    my ($smpp, $resp) = guarded($mode, sub {
        Net::SMPP->$ctor($host, port => $port, system_id => $system_id,
            password => $password, timeout => $WAIT);
    });
    die "bind_$mode: cannot connect to $host:$port\n" unless $smpp;
    ${*$smpp}{handlers}->{0x00000005} = \&on_deliver;
    $delivered{$smpp} = [];
    return ($smpp, $resp);
}

# wait_deliver reads PDUs until one matches, or gives up after $WAIT s.
sub wait_deliver {
    my ($smpp, $match) = @_;
    for my $p (@{ $delivered{$smpp} }) { return $p if $match->($p) }
    my $sel = IO::Select->new($smpp);
    my $deadline = time + $WAIT;
    while (time < $deadline) {
        next unless $sel->can_read(0.2);
        my $pdu = guarded('read', sub { $smpp->read_pdu });
        return undef unless $pdu;
        if ($pdu->cmd == 0x00000005) {
            on_deliver($smpp, $pdu);
            return $pdu if $match->($pdu);
        } elsif ($pdu->cmd == 0x00000015) {
            $smpp->enquire_link_resp(seq => $pdu->seq);
        }
    }
    return undef;
}

sub done {
    my $smpp = shift;
    eval { guarded('unbind', sub { $smpp->unbind }) };
    close $smpp;
    delete $delivered{$smpp};
}

sub is_receipt { (($_[0]->{esm_class} // 0) & 0x3c) == 0x04 }

# gsm7 encodes the few non-ASCII characters the cases use as unpacked
# GSM 03.38 septets (SMPP carries one septet per octet).
my %GSM = ('@' => "\x00", "\x{a3}" => "\x01", '$' => "\x02", "\x{e8}" => "\x04",
    "\x{e9}" => "\x05", "\x{20ac}" => "\x1b\x65", '[' => "\x1b\x3c", ']' => "\x1b\x3e");
sub gsm7 { join '', map { $GSM{$_} // $_ } split //, shift }

# inject_mo posts an MO to smppd's admin API; returns "" or why it failed.
sub inject_mo {
    my %mo = @_;
    return 'no admin listener ([admin] missing from the config): cannot inject MO' unless $admin;
    my ($ah, $ap) = $admin =~ m{^http://([^:/]+):(\d+)} or return "bad SMPPD_ADMIN $admin";
    my $body = '{' . join(',', map { qq("$_":"$mo{$_}") } sort keys %mo) . '}';
    my $sock = IO::Socket::INET->new(PeerAddr => $ah, PeerPort => $ap, Timeout => $WAIT)
        or return "admin API: $!";
    my $auth = $ENV{SMPPD_ADMIN_TOKEN} ? "Authorization: Bearer $ENV{SMPPD_ADMIN_TOKEN}\r\n" : '';
    print $sock "POST /v1/mo HTTP/1.0\r\nHost: $ah\r\nContent-Type: application/json\r\n${auth}"
        . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
    my $resp = eval { local $SIG{ALRM} = sub { die "timeout\n" }; alarm $WAIT; local $/; my $r = <$sock>; alarm 0; $r } // '';
    alarm 0;
    close $sock;
    my ($code) = $resp =~ m{^HTTP/\S+ (\d+)};
    return '' if $code && $code =~ /^2/;
    my ($rest) = $resp =~ /\r\n\r\n(.*)\z/s;
    return 'admin API answered ' . ($code // 'nothing') . ' ' . ($rest // '');
}

sub case_bind {
    my $mode = shift;
    my ($smpp, $resp) = bind_as($mode, 'demo', 'demopass');
    record("bind_$mode", $resp && $resp->status == 0,
        status_of($resp) . ' system_id "' . cstr($resp ? $resp->{system_id} : '') . '"');
    done($smpp);
}

# case_wrong_password tries every bind type: each must be refused with the
# status Net::SMPP explains as ESME_RINVPASWD.
sub case_wrong_password {
    my ($ok, @why) = (1);
    for my $mode (qw(transmitter receiver transceiver)) {
        my ($smpp, $resp) = bind_as($mode, 'demo', 'wrong');
        $ok = 0 unless $resp && $resp->status == Net::SMPP::ESME_RINVPASWD();
        push @why, "bind_$mode " . status_of($resp);
        close $smpp;
    }
    record('wrong password refused', $ok, 'client reports ' . join(', ', @why));
}

sub submit {
    my ($smpp, %f) = @_;
    return guarded('submit_sm', sub {
        $smpp->submit_sm(source_addr => '12345', destination_addr => '491701234567', %f);
    });
}

sub case_submits {
    my $smpp = shift;
    my $r = submit($smpp, data_coding => 0, short_message => gsm7("GSM7 perl @\x{a3}\$ \x{e8}\x{e9} [\x{20ac}]"));
    my $id = cstr($r && $r->{message_id});
    record('submit GSM7', $r && $r->status == 0 && $id =~ /^[0-9a-f]{16}$/, status_of($r) . " message_id \"$id\"");

    $r = submit($smpp, data_coding => 8, short_message => encode('UTF-16BE', "UCS2 perl \x{41f}\x{440}\x{438}\x{432}\x{435}\x{442} \x{2713}"));
    $id = cstr($r && $r->{message_id});
    record('submit UCS2', $r && $r->status == 0 && $id ne '', status_of($r) . " message_id \"$id\"");

    my $body = substr('Long perl message. ' x 25, 0, 400);
    my @parts = (substr($body, 0, 153), substr($body, 153, 153), substr($body, 306));
    my (@ids, @bad);
    for my $i (0 .. $#parts) {
        my $udh = pack 'C6', 5, 0, 3, 0x43, scalar @parts, $i + 1;
        $r = submit($smpp, data_coding => 0, esm_class => 0x40, short_message => $udh . $parts[$i]);
        if ($r && $r->status == 0) { push @ids, cstr($r->{message_id}) }
        else { push @bad, 'part ' . ($i + 1) . ': ' . status_of($r) }
    }
    record('long message 3-part UDH', !@bad && @ids == 3, @bad ? join(', ', @bad) : 'ids ' . join(',', @ids));

    $r = submit($smpp, data_coding => 0, short_message => '', message_payload => $body);
    $id = cstr($r && $r->{message_id});
    record('long message message_payload', $r && $r->status == 0 && $id ne '',
        status_of($r) . ' (' . length($body) . " chars) message_id \"$id\"");
}

sub case_receipt_and_query {
    my $smpp = shift;
    my $r = submit($smpp, destination_addr => '491709999999', registered_delivery => 1,
        short_message => "receipt please $nonce");
    my $id = cstr($r && $r->{message_id});
    if (!$r || $r->status != 0) {
        record('receipt requested and received', 0, 'submit refused: ' . status_of($r));
    } else {
        my $dr = wait_deliver($smpp, sub { is_receipt($_[0]) && cstr($_[0]->{receipted_message_id}) eq $id });
        if ($dr) {
            my $text = $dr->{short_message} // '';
            record('receipt requested and received', index($text, "id:$id") >= 0,
                "receipted_message_id $id, text \"$text\"");
        } else {
            my @other = map { cstr($_->{receipted_message_id}) } grep { is_receipt($_) } @{ $delivered{$smpp} };
            record('receipt requested and received', 0,
                "no receipt for $id within ${WAIT}s" . (@other ? ' (got receipts for ' . join(',', @other) . ')' : ''));
        }
    }

    my $q = guarded('query_sm', sub { $smpp->query_sm(message_id => $id, source_addr => '12345') });
    my @states = qw(? ENROUTE DELIVERED EXPIRED DELETED UNDELIVERABLE ACCEPTED UNKNOWN REJECTED);
    if ($q && $q->status == 0) {
        my $st = $q->{message_state} // -1;
        my $qid = cstr($q->{message_id});
        record('query_sm', $qid eq $id && $st >= 1 && $st <= 8,
            "message_id \"$qid\" state $st " . ($states[$st] // '?'));
    } else {
        record('query_sm', 0, status_of($q) . " for $id");
    }
}

sub case_mo {
    my ($mode, $system_id, $password) = @_;
    my ($smpp, $resp) = bind_as($mode, $system_id, $password);
    my $want = "MO perl $mode $nonce";
    my $err = $resp && $resp->status == 0 ? '' : "bind_$mode: " . status_of($resp);
    $err ||= inject_mo(source_addr => '491700000001', destination_addr => '12345',
        short_message => $want, system_id => $system_id);
    if ($err) {
        record("MO to $mode", 0, $err);
    } else {
        my $mo = wait_deliver($smpp, sub { !is_receipt($_[0]) && ($_[0]->{short_message} // '') eq $want });
        record("MO to $mode", $mo ? 1 : 0, $mo ? "got \"$mo->{short_message}\" dcs $mo->{data_coding}" : "no deliver_sm within ${WAIT}s");
    }
    done($smpp);
}

sub run_case {
    my ($name, $code) = @_;
    eval { $code->(); 1 } or do { my $e = $@; chomp $e; record($name, 0, $e) };
}

run_case('bind_transmitter', sub { case_bind('transmitter') });
run_case('bind_receiver', sub { case_bind('receiver') });
run_case('bind_transceiver', sub { case_bind('transceiver') });
run_case('wrong password refused', \&case_wrong_password);
run_case('session', sub {
    my ($smpp, $resp) = bind_as('transceiver', 'demo', 'demopass');
    die 'bind_transceiver: ' . status_of($resp) . "\n" unless $resp && $resp->status == 0;
    run_case('submits', sub { case_submits($smpp) });
    run_case('receipt/query', sub { case_receipt_and_query($smpp) });
    run_case('enquire_link', sub {
        my $r = guarded('enquire_link', sub { $smpp->enquire_link });
        record('enquire_link', $r && $r->cmd == 0x80000015 && $r->status == 0, ($r ? $r->explain_cmd : 'none') . ' ' . status_of($r));
    });
    run_case('unbind', sub {
        my $r = guarded('unbind', sub { $smpp->unbind });
        my $eof = IO::Select->new($smpp)->can_read($WAIT) && !sysread($smpp, my $buf, 1);
        record('unbind', $r && $r->cmd == 0x80000006 && $r->status == 0 && $eof,
            ($r ? $r->explain_cmd : 'none') . ' ' . status_of($r) . ($eof ? ', closed' : ', server kept the connection open'));
        close $smpp;
    });
});
run_case('MO to transceiver', sub { case_mo('transceiver', 'demo', 'demopass') });
run_case('MO to receiver', sub { case_mo('receiver', 'demo2', 'demopas2') });

print "$passed passed, $failed failed\n";
exit($failed ? 1 : 0);
