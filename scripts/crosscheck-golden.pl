#!/usr/bin/perl
# crosscheck-golden.pl DIR
#
# Cross-checks smppd's golden vectors (codec/testdata/golden/*.hex) against an
# independent SMPP v3.4 implementation: Net::SMPP (Debian libnet-smpp-perl,
# installed by scripts/install-deps.sh). For every vector it
#   1. feeds the frame to Net::SMPP's own reader (read_pdu, fed from memory),
#      and checks command id, status, sequence, every mandatory field, every
#      TLV and that the whole frame was consumed, against the vector's
#      expected-text section (the part after "----");
#   2. rebuilds the PDU with Net::SMPP's public PDU methods (submit_sm, ...)
#      from the expected-text values and compares the bytes with the vector.
# Malformed vectors (DIR/bad/*.hex) are fed to Net::SMPP too; it validates
# almost nothing, so only the checks it can make are made, the rest is SKIP.
#
# One line per vector: PASS, FAIL or SKIP with a reason; then the skips again,
# then "N passed, M failed, K skipped". Exit status 1 on any FAIL.
use strict;
use warnings;
use Net::SMPP;
use Symbol ();

# Net::SMPP is an IO::Socket; this subclass replaces the socket with two
# in-memory buffers so the module's own reader and writers run unchanged.
package MemSMPP;
our @ISA = ('Net::SMPP');

sub syswrite {
    my ($me, $buf) = @_;
    ${*$me}{mem_out} .= $buf;
    return length $buf;
}

sub sysread {
    my $me = shift;    # then ($buffer, $len, $offset) as in CORE::sysread
    my ($len, $off) = ($_[1], $_[2] || 0);
    my $chunk = substr(${*$me}{mem_in}, 0, $len, '');
    $_[0] = substr($_[0], 0, $off) . $chunk;
    $! = 0;            # read_hard retries while $! says "Interrupted"
    return length $chunk;
}

package main;

my $dir = shift @ARGV or die "usage: $0 codec/testdata/golden\n";
my $smpp_tags = Net::SMPP::param_tab();
my $statuses  = Net::SMPP::status_code();
my $pdus      = Net::SMPP::pdu_tab();
my %status_by_name = map { $statuses->{$_}{code} => $_ } keys %$statuses;

my (@pass, @fail, @skip);

sub new_smpp {
    my $me = Symbol::gensym();
    bless $me, 'MemSMPP';
    my $d = Net::SMPP::Default();
    ${*$me}{$_} = $d->{$_} for keys %$d;
    $me->set_version(0x34);
    ${*$me}{mem_in} = ${*$me}{mem_out} = '';
    return $me;
}

# read_vector returns (bytes, [expected lines]) from an annotated hex file.
sub read_vector {
    my ($path) = @_;
    open my $fh, '<', $path or die "$path: $!\n";
    my ($hex, @want, $in_text) = ('');
    while (my $line = <$fh>) {
        chomp $line;
        if ($in_text) { push @want, $line if $line ne ''; next }
        if ($line eq '----') { $in_text = 1; next }
        $line =~ s/#.*//;
        $line =~ s/\s+//g;
        die "$path: not hex: $line\n" if $line =~ /[^0-9a-fA-F]/;
        $hex .= $line;
    }
    die "$path: no ---- separator\n" unless $in_text;
    die "$path: odd number of hex digits\n" if length($hex) % 2;
    return (pack('H*', $hex), \@want);
}

# unquote parses the dump's string form: "..." with \" \\ and \xNN escapes.
sub unquote {
    my ($s) = @_;
    $s =~ /^"(.*)"$/ or die "not a quoted string: $s\n";
    $s = $1;
    my $out = '';
    while (length $s) {
        if    ($s =~ s/^\\x([0-9a-f]{2})//) { $out .= chr hex $1 }
        elsif ($s =~ s/^\\(["\\])//)        { $out .= $1 }
        elsif ($s =~ s/^([^\\"])//)         { $out .= $1 }
        else  { die "bad escape in string: $s\n" }
    }
    return $out;
}

sub num { my ($v) = @_; return $v =~ /^0x/ ? hex $v : $v + 0 }

sub status_value {
    my ($name) = @_;
    return hex $name if $name =~ /^0x[0-9a-f]{8}$/;
    die "status $name unknown to Net::SMPP\n" unless exists $status_by_name{$name};
    return $status_by_name{$name};
}

sub status_name {
    my ($v) = @_;
    return $statuses->{$v} ? $statuses->{$v}{code} : sprintf('0x%08x', $v);
}

# Mandatory fields per PDU in wire order, with their dump kind:
# s = C-string, n = integer, m = short_message (with sm_length before it).
my @SM = (qw(service_type:s source_addr_ton:n source_addr_npi:n source_addr:s dest_addr_ton:n
    dest_addr_npi:n destination_addr:s esm_class:n protocol_id:n priority_flag:n
    schedule_delivery_time:s validity_period:s registered_delivery:n replace_if_present_flag:n
    data_coding:n sm_default_msg_id:n short_message:m));
my @BIND = qw(system_id:s password:s system_type:s interface_version:n addr_ton:n addr_npi:n address_range:s);
my %FIELDS = (
    bind_transmitter => \@BIND, bind_receiver => \@BIND, bind_transceiver => \@BIND,
    bind_transmitter_resp => ['system_id:s'], bind_receiver_resp => ['system_id:s'],
    bind_transceiver_resp => ['system_id:s'],
    outbind => [qw(system_id:s password:s)],
    submit_sm => \@SM, deliver_sm => \@SM,
    submit_sm_resp => ['message_id:s'], deliver_sm_resp => ['message_id:s'], data_sm_resp => ['message_id:s'],
    data_sm => [qw(service_type:s source_addr_ton:n source_addr_npi:n source_addr:s dest_addr_ton:n
        dest_addr_npi:n destination_addr:s esm_class:n registered_delivery:n data_coding:n)],
    submit_multi => [qw(service_type:s source_addr_ton:n source_addr_npi:n source_addr:s number_of_dests:d
        esm_class:n protocol_id:n priority_flag:n schedule_delivery_time:s validity_period:s
        registered_delivery:n replace_if_present_flag:n data_coding:n sm_default_msg_id:n short_message:m)],
    submit_multi_resp => [qw(message_id:s no_unsuccess:u)],
    query_sm => [qw(message_id:s source_addr_ton:n source_addr_npi:n source_addr:s)],
    query_sm_resp => [qw(message_id:s final_date:s message_state:n error_code:n)],
    cancel_sm => [qw(service_type:s message_id:s source_addr_ton:n source_addr_npi:n source_addr:s
        dest_addr_ton:n dest_addr_npi:n destination_addr:s)],
    replace_sm => [qw(message_id:s source_addr_ton:n source_addr_npi:n source_addr:s
        schedule_delivery_time:s validity_period:s registered_delivery:n sm_default_msg_id:n short_message:m)],
    alert_notification => [qw(source_addr_ton:n source_addr_npi:n source_addr:s esme_addr_ton:n
        esme_addr_npi:n esme_addr:s)],
    map { $_ => [] } qw(unbind unbind_resp enquire_link enquire_link_resp generic_nack
        cancel_sm_resp replace_sm_resp),
);

# parse_expected turns the dump into a structure:
# {command, status, sequence, length, absent, fields{}, order[], tlvs[[tag,name,bytes]],
#  dests[[flag,ton,npi,addr]], unsuccess[[ton,npi,addr,status]]}
sub parse_expected {
    my ($lines) = @_;
    my %e = (fields => {}, order => [], tlvs => [], dests => [], unsuccess => []);
    for my $l (@$lines) {
        if ($l =~ /^tlv 0x([0-9a-f]{4}) (\S+): (\(empty\)|[0-9a-f]+)$/) {
            push @{ $e{tlvs} }, [hex $1, $2, $3 eq '(empty)' ? '' : pack('H*', $3)];
        } elsif ($l =~ /^dest\[(\d+)\]: sme ton=(\d+) npi=(\d+) addr=(".*")$/) {
            $e{dests}[$1] = [1, $2, $3, unquote($4)];
        } elsif ($l =~ /^dest\[(\d+)\]: dl name=(".*")$/) {
            $e{dests}[$1] = [2, undef, undef, unquote($2)];
        } elsif ($l =~ /^unsuccess\[(\d+)\]: ton=(\d+) npi=(\d+) addr=(".*") error=(\S+)$/) {
            $e{unsuccess}[$1] = [$2, $3, unquote($4), status_value($5)];
        } elsif ($l eq 'body: absent') {
            $e{absent} = 1;
        } elsif ($l =~ /^(command|status|sequence|length|fatal): (.*)$/) {
            $e{$1} = $2;
        } elsif ($l =~ /^(\w+): (".*")$/) {
            $e{fields}{$1} = unquote($2);
            push @{ $e{order} }, $1;
        } elsif ($l =~ /^(\w+): (0x[0-9a-f]+|\d+)$/) {
            $e{fields}{$1} = num($2);
            push @{ $e{order} }, $1;
        } else {
            die "unparsable expected line: $l\n";
        }
    }
    return \%e;
}

# check_decode compares Net::SMPP's decoding of $bytes with the expectation.
# Returns a list of problems (empty = agreement).
sub check_decode {
    my ($bytes, $e, $notes) = @_;
    my @bad;
    my $me = new_smpp();
    ${*$me}{mem_in} = $bytes;
    my @warnings;
    my $pdu = do { local $SIG{__WARN__} = sub { push @warnings, $_[0] }; $me->read_pdu() };
    return ('Net::SMPP read_pdu failed: ' . (${*$me}{smpperror} // 'unknown')) unless $pdu;
    push @bad, length(${*$me}{mem_in}) . ' octets left unread' if length ${*$me}{mem_in};
    for (@warnings) {
        next if /^Unknown tag/;    # expected for vendor TLVs, checked below
        chomp(my $w = $_);
        push @$notes, "Net::SMPP warned: $w";
    }
    my $cmd = $e->{command};
    my $cmd_const = Net::SMPP->can("CMD_$cmd");
    push @bad, "Net::SMPP has no command $cmd" unless $cmd_const;
    push @bad, sprintf('command_id 0x%08x, Net::SMPP calls it %s', $pdu->{cmd}, $pdus->{ $pdu->{cmd} }{cmd} // '?')
        if $cmd_const && ($pdu->{cmd} != $cmd_const->() || ($pdus->{ $pdu->{cmd} }{cmd} // '') ne $cmd);
    push @bad, 'status ' . status_name($pdu->{status}) . " != $e->{status}"
        if $pdu->{status} != status_value($e->{status});
    push @bad, "sequence $pdu->{seq} != $e->{sequence}" if $pdu->{seq} != $e->{sequence};
    push @bad, 'length ' . (16 + length $pdu->{data}) . " != $e->{length}" if 16 + length($pdu->{data}) != $e->{length};

    if ($e->{absent}) {
        push @bad, 'expected no body, Net::SMPP saw ' . length($pdu->{data}) . ' octets' if length $pdu->{data};
        return @bad;
    }
    my %seen;
    for my $f (@{ $FIELDS{$cmd} || [] }) {
        my ($name, $kind) = split /:/, $f;
        if ($kind eq 'm') {
            my $sm = $pdu->{short_message} // '';
            push @bad, 'sm_length ' . length($sm) . " != $e->{fields}{sm_length}" if length($sm) != ($e->{fields}{sm_length} // -1);
            push @bad, 'short_message differs' if $sm ne ($e->{fields}{short_message} // '');
            $seen{sm_length} = $seen{short_message} = 1;
            next;
        }
        if ($kind eq 'd') {    # submit_multi destination list
            my $n = $pdu->{number_of_dests} // -1;
            push @bad, "number_of_dests $n != $e->{fields}{number_of_dests}" if $n != $e->{fields}{number_of_dests};
            push @bad, 'dest lines ' . scalar(@{ $e->{dests} }) . " != number_of_dests $n" if @{ $e->{dests} } != $n;
            for my $i (0 .. $#{ $e->{dests} }) {
                my ($flag, $ton, $npi, $addr) = @{ $e->{dests}[$i] };
                my $got = join ',', map { $_ // 'undef' } $pdu->{dest_flag}[$i], $pdu->{destination_addr}[$i],
                    ($flag == 1 ? ($pdu->{dest_addr_ton}[$i], $pdu->{dest_addr_npi}[$i]) : ());
                my $want = join ',', $flag, $addr, ($flag == 1 ? ($ton, $npi) : ());
                push @bad, "dest[$i] Net::SMPP ($got) != ($want)" if $got ne $want;
            }
            $seen{number_of_dests} = 1;
            next;
        }
        if ($kind eq 'u') {    # submit_multi_resp unsuccess list
            my $n = $pdu->{no_unsuccess} // -1;
            push @bad, "no_unsuccess $n != $e->{fields}{no_unsuccess}" if $n != $e->{fields}{no_unsuccess};
            push @bad, 'unsuccess lines ' . scalar(@{ $e->{unsuccess} }) . " != no_unsuccess $n" if @{ $e->{unsuccess} } != $n;
            for my $i (0 .. $#{ $e->{unsuccess} }) {
                my $got = join ',', map { $_ // 'undef' } $pdu->{dest_addr_ton}[$i], $pdu->{dest_addr_npi}[$i],
                    $pdu->{destination_addr}[$i], $pdu->{error_status_code}[$i];
                my $want = join ',', @{ $e->{unsuccess}[$i] };
                push @bad, "unsuccess[$i] Net::SMPP ($got) != ($want)" if $got ne $want;
            }
            $seen{no_unsuccess} = 1;
            next;
        }
        $seen{$name} = 1;
        my $want = $e->{fields}{$name};
        if (!defined $want) { push @bad, "expected text lacks $name"; next }
        my $got = $pdu->{$name};
        if (!defined $got) { push @bad, "Net::SMPP did not decode $name"; next }
        if ($kind eq 's' ? $got ne $want : $got != $want) {
            push @bad, sprintf('%s: Net::SMPP %s, expected %s', $name,
                $kind eq 's' ? ("\"$got\"", "\"$want\"") : ($got, $want));
        }
    }
    for my $name (@{ $e->{order} }) {
        push @bad, "expected field $name is not a $cmd mandatory field" unless $seen{$name};
    }

    # TLVs: Net::SMPP keeps the last value per tag under the numeric tag.
    my %got_tlv = map { $_ => $pdu->{$_} } grep { /^\d+$/ } keys %$pdu;
    my %want_tlv;
    for my $t (@{ $e->{tlvs} }) {
        my ($tag, $name, $val) = @$t;
        push @bad, sprintf('TLV 0x%04x appears twice; Net::SMPP keeps only one', $tag) if exists $want_tlv{$tag};
        $want_tlv{$tag} = $val;
        my $theirs = $smpp_tags->{$tag} ? $smpp_tags->{$tag}{name} : undef;
        if (defined $theirs && $theirs ne $name) {
            push @$notes, sprintf('tag 0x%04x: we say %s, Net::SMPP says %s', $tag, $name, $theirs);
        }
        if (!exists $got_tlv{$tag}) {
            push @bad, sprintf('TLV 0x%04x %s not decoded by Net::SMPP', $tag, $name);
        } elsif ($got_tlv{$tag} ne $val) {
            push @bad, sprintf('TLV 0x%04x %s: Net::SMPP %s, expected %s', $tag, $name,
                unpack('H*', $got_tlv{$tag}), unpack('H*', $val));
        }
    }
    for my $tag (sort { $a <=> $b } keys %got_tlv) {
        push @bad, sprintf('Net::SMPP decoded TLV 0x%04x that the expected text lacks', $tag)
            unless exists $want_tlv{$tag};
    }
    return @bad;
}

# encode_args builds Net::SMPP method arguments from the expectation.
# Returns (method, \@args) or (undef, reason) when Net::SMPP cannot express it.
sub encode_args {
    my ($e, $notes) = @_;
    my $cmd = $e->{command};
    return (undef, 'Net::SMPP cannot encode a body-less response: it always writes the mandatory fields')
        if $e->{absent};
    return (undef, "Net::SMPP has no public method for $cmd") unless MemSMPP->can($cmd);
    my @args = (seq => $e->{sequence}, async => 1);
    push @args, status => status_value($e->{status}) if $cmd =~ /_resp$|^generic_nack$|^outbind$/;
    return (undef, "Net::SMPP sends $cmd with status 0 only") if $cmd !~ /_resp$|^generic_nack$/ && $e->{status} ne 'ESME_ROK';
    for my $f (@{ $FIELDS{$cmd} }) {
        my ($name, $kind) = split /:/, $f;
        if ($kind eq 'd') {
            my @d = @{ $e->{dests} };
            push @args, dest_flag => [map { $_->[0] } @d], dest_addr_ton => [map { $_->[1] } @d],
                dest_addr_npi => [map { $_->[2] } @d], destination_addr => [map { $_->[3] } @d];
        } elsif ($kind eq 'u') {
            my @u = @{ $e->{unsuccess} };
            my @codes = map { $_->[3] } @u;
            if (!@codes) {
                # encode_submit_multi_resp croaks on an empty error_status_code
                # list even though no_unsuccess 0 is legal; the count it writes
                # comes from destination_addr, so one unused code is harmless.
                @codes = (0);
                push @$notes, 'Net::SMPP needs a dummy error_status_code for an empty unsuccess list';
            }
            push @args, dest_addr_ton => [map { $_->[0] } @u], dest_addr_npi => [map { $_->[1] } @u],
                destination_addr => [map { $_->[2] } @u], error_status_code => \@codes;
        } else {
            push @args, $name => $e->{fields}{$name};
        }
    }
    for my $t (@{ $e->{tlvs} }) {
        my ($tag, $name, $val) = @$t;
        my $theirs = $smpp_tags->{$tag} ? $smpp_tags->{$tag}{name} : undef;
        if (!defined $theirs) {
            # Net::SMPP's numeric-tag path packs the value as an integer of
            # guessed width; registering the tag in its name table lets its
            # generic TLV encoder write the octets as they are.
            $theirs = sprintf 'vendor_0x%04x', $tag;
            $Net::SMPP::param_by_name{$theirs} = $tag;
            push @$notes, sprintf('tag 0x%04x registered in Net::SMPP name table', $tag);
        }
        push @args, $theirs => $val;
    }
    return ($cmd, \@args);
}

sub check_encode {
    my ($bytes, $e, $notes) = @_;
    my ($method, $args) = encode_args($e, $notes);
    return ('SKIP', $args) unless defined $method;
    my $me = new_smpp();
    my @warnings;
    my $ok = eval {
        local $SIG{__WARN__} = sub { push @warnings, $_[0] };
        $me->$method(@$args);
        1;
    };
    return ('FAIL', "Net::SMPP $method died: $@") unless $ok;
    for (@warnings) {
        next if /uninitialized value \$addr_data/;    # empty unsuccess list, see encode_args
        chomp(my $w = $_);
        push @$notes, "Net::SMPP warned: $w";
    }
    my $out = ${*$me}{mem_out};
    return ('OK') if $out eq $bytes;
    my $i = 0;
    $i++ while $i < length($out) && $i < length($bytes) && substr($out, $i, 1) eq substr($bytes, $i, 1);
    return ('FAIL', sprintf('Net::SMPP %s re-encode differs at offset %d (ours %d octets, theirs %d): ours %s theirs %s',
        $method, $i, length $bytes, length $out,
        unpack('H*', substr($bytes, $i, 8)), unpack('H*', substr($out, $i, 8))));
}

sub report {
    my ($verdict, $name, $why) = @_;
    my $line = sprintf '%-4s %s%s', $verdict, $name, defined $why && $why ne '' ? " - $why" : '';
    print "$line\n";
    push @{ { PASS => \@pass, FAIL => \@fail, SKIP => \@skip }->{$verdict} }, $line;
}

sub check_good {
    my ($path, $name) = @_;
    my ($bytes, $want) = read_vector($path);
    my $e = eval { parse_expected($want) };
    return report('FAIL', $name, "expected text: $@") unless $e;
    my @notes;
    my @bad = check_decode($bytes, $e, \@notes);
    return report('FAIL', $name, 'decode: ' . join('; ', @bad)) if @bad;
    my ($verdict, $why) = check_encode($bytes, $e, \@notes);
    my $note = @notes ? ' [' . join('; ', @notes) . ']' : '';
    return report('FAIL', $name, "$why$note") if $verdict eq 'FAIL';
    return report('SKIP', $name, "decode agrees; re-encode not expressible: $why$note") if $verdict eq 'SKIP';
    return report('PASS', $name, "decode + re-encode agree$note");
}

# Malformed frames: Net::SMPP enforces only "command_length >= 16" and knows
# which command ids exist; everything else it decodes without validation.
sub check_bad {
    my ($path, $name) = @_;
    my ($bytes, $want) = read_vector($path);
    my %e = map { /^(\w+): (.*)$/ ? ($1 => $2) : () } @$want;
    return report('FAIL', $name, 'expected text lacks status:') unless $e{status};
    my $me = new_smpp();
    ${*$me}{mem_in} = $bytes;
    my $pdu = do { local $SIG{__WARN__} = sub { }; $me->read_pdu() };
    my $len = length($bytes) >= 4 ? unpack('N', $bytes) : -1;
    if ($e{status} eq 'ESME_RINVCMDLEN' && ($e{fatal} // '') eq 'true') {
        return report('PASS', $name, 'Net::SMPP also refuses the frame: ' . (${*$me}{smpperror} // ''))
            if !$pdu && $len >= 0 && $len < 16;
        return report('SKIP', $name, "command_length $len: Net::SMPP has no maximum PDU size to enforce")
            if $len >= 16;
        return report('FAIL', $name, 'Net::SMPP accepted a frame we call unframeable');
    }
    if ($e{status} eq 'ESME_RINVCMDID') {
        return report('FAIL', $name, 'Net::SMPP could not read the frame') unless $pdu;
        return report('FAIL', $name, sprintf('Net::SMPP knows command 0x%08x', $pdu->{cmd})) if $pdu->{known_pdu};
        return report('PASS', $name, sprintf('Net::SMPP also does not know command 0x%08x', $pdu->{cmd}));
    }
    return report('SKIP', $name, 'Net::SMPP frames it but does not validate bodies, so it cannot confirm '
        . $e{status}) if $pdu;
    return report('SKIP', $name, 'Net::SMPP cannot read it: ' . (${*$me}{smpperror} // '?'));
}

opendir my $dh, $dir or die "$dir: $!\n";
my @good = sort grep { /\.hex$/ } readdir $dh;
closedir $dh;
die "no vectors in $dir\n" unless @good;
for my $f (@good) {
    (my $name = $f) =~ s/\.hex$//;
    check_good("$dir/$f", $name);
}
if (opendir my $bh, "$dir/bad") {
    for my $f (sort grep { /\.hex$/ } readdir $bh) {
        (my $name = $f) =~ s/\.hex$//;
        check_bad("$dir/bad/$f", "bad/$name");
    }
    closedir $bh;
}
if (@skip) {
    print "\nSkipped (Net::SMPP cannot express or check these):\n";
    print "  $_\n" for @skip;
}
printf "%d passed, %d failed, %d skipped\n", scalar @pass, scalar @fail, scalar @skip;
exit(@fail ? 1 : 0);
