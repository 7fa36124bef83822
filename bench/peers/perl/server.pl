#!/usr/bin/perl
# Peer SMSC for smppbench on the server side of Net::SMPP (Debian
# libnet-smpp-perl). Net::SMPP serves one socket at a time, so each
# accepted connection gets its own forked process. Any bind is accepted;
# submit_sm gets a fresh message_id (pid-counter) and, when
# registered_delivery asks, a delivery receipt follows right away
# (receipted_message_id and message_state TLVs plus the Appendix B text).
# Usage: perl server.pl [port] [host]   (defaults 2778 127.0.0.1)
use strict;
use warnings;
use Net::SMPP;
use POSIX qw(strftime);

my $port = shift // 2778;
my $host = shift // '127.0.0.1';

$SIG{CHLD} = 'IGNORE';    # children are reaped by the kernel
my $server = Net::SMPP->new_listen($host, port => $port, async => 1, smpp_version => 0x34)
    or die "listen on $host:$port: $!";
print STDERR "perl Net::SMPP peer listening on $host:$port\n";
# Stopping the listener stops its connections too when it leads its group.
$SIG{TERM} = $SIG{INT} = sub {
    $SIG{TERM} = 'IGNORE';
    kill 'TERM', -$$ if getpgrp() == $$;
    exit 0;
};

while (1) {
    my $conn = $server->accept or next;
    my $pid = fork;
    if (!defined $pid) { close $conn; next; }
    if ($pid) { close $conn; next; }
    close $server;
    $SIG{TERM} = $SIG{INT} = 'DEFAULT';
    serve($conn);
    exit 0;
}

sub serve {
    my ($c) = @_;
    my $n = 0;
    while (my $pdu = $c->read_pdu) {
        my $cmd = $pdu->{cmd};
        my $seq = $pdu->{seq};
        if ($cmd == Net::SMPP::CMD_submit_sm) {
            my $id = "$$-" . ++$n;
            $c->submit_sm_resp(seq => $seq, message_id => $id);
            next unless ($pdu->{registered_delivery} // 0) & 1;
            my $d = strftime('%y%m%d%H%M', gmtime);
            $c->deliver_sm(
                source_addr      => $pdu->{destination_addr},
                destination_addr => $pdu->{source_addr},
                esm_class        => 4,
                short_message    => "id:$id sub:001 dlvrd:001 submit date:$d done date:$d stat:DELIVRD err:000 text:",
                receipted_message_id => "$id\0",
                1063             => 2,    # message_state (0x0427) DELIVERED
            );
        } elsif ($cmd == Net::SMPP::CMD_bind_transmitter) {
            $c->bind_transmitter_resp(seq => $seq, system_id => 'perl');
        } elsif ($cmd == Net::SMPP::CMD_bind_transceiver) {
            $c->bind_transceiver_resp(seq => $seq, system_id => 'perl');
        } elsif ($cmd == Net::SMPP::CMD_bind_receiver) {
            $c->bind_receiver_resp(seq => $seq, system_id => 'perl');
        } elsif ($cmd == Net::SMPP::CMD_enquire_link) {
            $c->enquire_link_resp(seq => $seq);
        } elsif ($cmd == Net::SMPP::CMD_unbind) {
            $c->unbind_resp(seq => $seq);
            last;
        } elsif (!($cmd & 0x80000000)) {
            $c->generic_nack(seq => $seq, status => 3);    # ESME_RINVCMDID
        }
    }
    close $c;
}
