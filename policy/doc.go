// Package policy is smppd's traffic policy (issue 20): the stage every MT
// message passes between admission's checks and routing, and every MO
// between its connector and its MO route. In order:
//
//  1. normalisation: national and international forms of a number to one
//     canonical international form, TON/NPI set to match, digit and length
//     checks, alphanumeric senders (TON 5) per 3GPP TS 23.040 §9.1.2.5;
//  2. sender policy: the group and global levels of the users file's
//     source_addrs and default_source (user > group > global);
//  3. block and allow lists of exact numbers and prefixes;
//  4. the ordered rewrite/reject rule table (first match, routes' filters);
//  5. the stages other packages add (Stage).
//
// Load reads and compiles a policy file into an immutable Policy; a Holder
// publishes the one in force so a reload swaps it atomically. Evaluating a
// message allocates nothing (allocation_test.go) except a regexp rewrite,
// which is measured on its own. docs/POLICY.md describes the file.
package policy
