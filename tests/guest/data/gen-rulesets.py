#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Writes ruleset-v4.rules and ruleset-v6.rules beside this file: a
# realistic filter table for a small router/server (anti-spoofing, per-host
# and per-service chains, rate-limited logging, rejects), in the exact form
# iptables-legacy-save / ip6tables-legacy-save 1.8.9 print it (minus the
# "# Generated/Completed" comment lines), so that restore-then-save gives
# the same text back. Only the matches and targets rnf_tables implements.
# Deterministic: rerun after a change and commit both outputs.
import os

here = os.path.dirname(os.path.abspath(__file__))


def v4():
    chains = ["INPUT DROP", "FORWARD DROP", "OUTPUT ACCEPT"]
    user = ["antispoof", "hosts_in", "icmp_in", "log_drop", "svc_dns", "svc_mail",
            "svc_web", "tcp_flags", "wan_fwd"]
    r = []
    r += ["-A INPUT -i lo -j ACCEPT",
          "-A INPUT -m conntrack --ctstate INVALID -j DROP",
          "-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT",
          "-A INPUT -i eth0 -j antispoof",
          "-A INPUT -p tcp -j tcp_flags",
          "-A INPUT -p icmp -j icmp_in",
          "-A INPUT -j hosts_in",
          "-A INPUT -p udp -m udp --dport 53 -j svc_dns",
          "-A INPUT -p tcp -m tcp --dport 53 -j svc_dns",
          "-A INPUT -p tcp -m multiport --dports 25,465,587,993 -j svc_mail",
          "-A INPUT -p tcp -m multiport --dports 80,443,8000:8090 -j svc_web",
          "-A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -m limit --limit 6/min --limit-burst 10 -j ACCEPT",
          "-A INPUT -f -j DROP",
          "-A INPUT -p udp -j REJECT --reject-with icmp-port-unreachable",
          "-A INPUT -p tcp -j REJECT --reject-with tcp-reset",
          "-A INPUT -j log_drop"]
    r += ["-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
          "-A FORWARD -i br+ -o eth0 -j ACCEPT",
          "-A FORWARD -i eth0 -o br+ -j wan_fwd",
          "-A FORWARD -j log_drop"]
    r += ["-A OUTPUT -o lo -j ACCEPT",
          "-A OUTPUT -p icmp -m icmp --icmp-type 5 -j DROP",
          "-A OUTPUT -m comment --comment \"everything else leaves\" -j ACCEPT"]
    for net in ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
                "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16",
                "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",
                "240.0.0.0/4"]:
        r.append("-A antispoof -s %s -j DROP" % net)
    r.append("-A antispoof -d 255.255.255.255/32 -j RETURN")
    r.append("-A antispoof ! -d 203.0.113.1/32 -j DROP")
    # Per-host allow/deny list: 256 hosts, the bulk of the table.
    for i in range(256):
        host = "198.51.%d.%d/32" % (i // 64, (i * 7) % 250 + 2)
        if i % 5 == 0:
            r.append("-A hosts_in -s %s -m comment --comment \"blocked host %d\" -j DROP" % (host, i))
        elif i % 5 == 1:
            r.append("-A hosts_in -s %s -p tcp -m tcp --dport %d -j ACCEPT" % (host, 2000 + i))
        elif i % 5 == 2:
            r.append("-A hosts_in -s %s -p udp -m udp --sport 1024:65535 --dport %d -j ACCEPT" % (host, 3000 + i))
        elif i % 5 == 3:
            r.append("-A hosts_in -s %s -i eth1 -j RETURN" % host)
        else:
            r.append("-A hosts_in -s %s -p tcp -m tcp ! --dport 22 -j REJECT --reject-with icmp-host-prohibited" % host)
    for t in ["0", "3/4", "3", "11", "12"]:
        r.append("-A icmp_in -p icmp -m icmp --icmp-type %s -j ACCEPT" % t)
    r.append("-A icmp_in -p icmp -m icmp --icmp-type 8 -m limit --limit 5/sec -j ACCEPT")
    r.append("-A icmp_in -p icmp -j DROP")
    r.append("-A log_drop -m limit --limit 3/min --limit-burst 7 -j LOG --log-prefix \"fw-drop: \" --log-level 6")
    r.append("-A log_drop -j DROP")
    for n, net in enumerate(["10.10.0.0/16", "10.20.0.0/16", "192.168.1.0/24", "192.168.2.0/24"]):
        r.append("-A svc_dns -s %s -j ACCEPT" % net)
    r.append("-A svc_dns -p udp -m limit --limit 20/sec --limit-burst 40 -j ACCEPT")
    r.append("-A svc_dns -j DROP")
    for p in [25, 465, 587, 993]:
        r.append("-A svc_mail -p tcp -m tcp --dport %d -m conntrack --ctstate NEW -j ACCEPT" % p)
    r.append("-A svc_mail -j REJECT --reject-with icmp-net-prohibited")
    for i in range(40):
        r.append("-A svc_web -s 203.0.%d.0/24 -p tcp -m multiport --dports 80,443 -j ACCEPT" % (i + 100))
    r.append("-A svc_web -p tcp -m tcp --dport 8080 -m comment --comment admin -j REJECT --reject-with icmp-admin-prohibited")
    r.append("-A svc_web -j RETURN")
    r += ["-A tcp_flags -p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE -j DROP",
          "-A tcp_flags -p tcp -m tcp --tcp-flags FIN,SYN FIN,SYN -j DROP",
          "-A tcp_flags -p tcp -m tcp --tcp-flags SYN,RST SYN,RST -j DROP",
          "-A tcp_flags -p tcp -m tcp --tcp-flags FIN,RST FIN,RST -j DROP",
          "-A tcp_flags -p tcp -m tcp --tcp-flags FIN,ACK FIN -j DROP",
          "-A tcp_flags -p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -m state --state NEW -j DROP"]
    for i in range(60):
        r.append("-A wan_fwd -d 192.168.%d.%d/32 -p tcp -m tcp --dport %d -j ACCEPT" % (1 + i // 30, 10 + i % 30, 10000 + i))
    r.append("-A wan_fwd -d 192.168.3.0/24 -p udp -m multiport --dports 5060,10000:20000 -j ACCEPT")
    r.append("-A wan_fwd -j RETURN")
    return chains, user, r


def v6():
    chains = ["INPUT DROP", "FORWARD DROP", "OUTPUT ACCEPT"]
    user = ["hosts6", "icmp6_in", "log6"]
    r = ["-A INPUT -i lo -j ACCEPT",
         "-A INPUT -m conntrack --ctstate INVALID -j DROP",
         "-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT",
         "-A INPUT -s fe80::/10 -p ipv6-icmp -j icmp6_in",
         "-A INPUT -p ipv6-icmp -j icmp6_in",
         "-A INPUT -j hosts6",
         "-A INPUT -p tcp -m multiport --dports 22,80,443 -m conntrack --ctstate NEW -j ACCEPT",
         "-A INPUT -p udp -j REJECT --reject-with icmp6-port-unreachable",
         "-A INPUT -p tcp -j REJECT --reject-with tcp-reset",
         "-A INPUT -j log6",
         "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
         "-A FORWARD -i br+ -o eth0 -j ACCEPT",
         "-A FORWARD -j log6",
         "-A OUTPUT -o lo -j ACCEPT",
         "-A OUTPUT -m comment --comment \"everything else leaves\" -j ACCEPT"]
    for i in range(80):
        host = "2001:db8:%x::%x/128" % (i // 16 + 1, i + 1)
        if i % 4 == 0:
            r.append("-A hosts6 -s %s -j DROP" % host)
        elif i % 4 == 1:
            r.append("-A hosts6 -s %s -p tcp -m tcp --dport %d -j ACCEPT" % (host, 2000 + i))
        elif i % 4 == 2:
            r.append("-A hosts6 -s %s -p udp -m udp --dport %d -j ACCEPT" % (host, 3000 + i))
        else:
            r.append("-A hosts6 -s %s -p tcp -m tcp ! --dport 22 -j REJECT --reject-with icmp6-adm-prohibited" % host)
    r.append("-A hosts6 -s 2001:db8:ff::/48 -m comment --comment \"lab network\" -j RETURN")
    for t in ["1", "2", "3", "4", "128", "133", "134", "135", "136"]:
        r.append("-A icmp6_in -p ipv6-icmp -m icmp6 --icmpv6-type %s -j ACCEPT" % t)
    r.append("-A icmp6_in -p ipv6-icmp -j DROP")
    r.append("-A log6 -m limit --limit 3/min -j LOG --log-prefix \"fw6-drop: \"")
    r.append("-A log6 -j DROP")
    return chains, user, r


def write(name, chains, user, rules):
    with open(os.path.join(here, name), "w") as f:
        f.write("*filter\n")
        for c in chains:
            f.write(":%s [0:0]\n" % c)
        for c in user:
            f.write(":%s - [0:0]\n" % c)
        order = [c.split()[0] for c in chains] + user
        for c in order:
            for rule in rules:
                if rule.split()[1] == c:
                    f.write(rule + "\n")
        f.write("COMMIT\n")


write("ruleset-v4.rules", *v4())
write("ruleset-v6.rules", *v6())
