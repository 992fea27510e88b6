/**
 * Configuration text and argument lists for the real FTP daemons of the test
 * harness, from the tested recipes summarised in docs/ftp-servers.md. Pure functions.
 */
import { join } from 'node:path';

interface Common {
  port: number;
  passive: [number, number];
  base: string;
  tls: boolean;
}

/** vsftpd.conf: local user, chroot, PAM service of its own, optional explicit TLS. */
export function vsftpdConfig(
  o: Common & { root: string; pamService: string; logFile: string },
): string {
  const lines = [
    'listen=YES',
    'listen_ipv6=NO',
    'listen_address=127.0.0.1',
    `listen_port=${o.port}`,
    'background=NO',
    'anonymous_enable=NO',
    'local_enable=YES',
    'write_enable=YES',
    'local_umask=022',
    'chroot_local_user=YES',
    'allow_writeable_chroot=YES',
    `local_root=${o.root}`,
    'pasv_address=127.0.0.1',
    `pasv_min_port=${o.passive[0]}`,
    `pasv_max_port=${o.passive[1]}`,
    `secure_chroot_dir=${join(o.base, 'empty')}`,
    `pam_service_name=${o.pamService}`,
    'seccomp_sandbox=NO',
    'utf8_filesystem=YES',
    'xferlog_enable=YES',
    'xferlog_std_format=NO',
    'log_ftp_protocol=YES',
    `vsftpd_log_file=${o.logFile}`,
    // Tests log in with wrong passwords on purpose; vsftpd would sleep 1 s each time.
    'delay_failed_login=0',
  ];
  if (o.tls) {
    lines.push(
      'ssl_enable=YES',
      `rsa_cert_file=${join(o.base, 'cert.pem')}`,
      `rsa_private_key_file=${join(o.base, 'key.pem')}`,
      'force_local_logins_ssl=NO',
      'force_local_data_ssl=NO',
      'require_ssl_reuse=NO',
      'ssl_ciphers=HIGH',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** proftpd.conf: virtual user from AuthUserFile, chroot to its home, optional mod_tls. */
export function proftpdConfig(o: Common & { logFile: string; modules: string }): string {
  const p = (name: string) => join(o.base, name);
  const lines = [
    'ServerType standalone',
    'ServerName "pve-ftp-backup test"',
    'DefaultAddress 127.0.0.1',
    'SocketBindTight on',
    `Port ${o.port}`,
    'UseIPv6 off',
    'User nobody',
    'Group nogroup',
    'Umask 022',
    `PidFile ${p('proftpd.pid')}`,
    `ScoreboardFile ${p('proftpd.scoreboard')}`,
    `DelayTable ${p('proftpd.delay')}`,
    'WtmpLog off',
    'UseFtpUsers off',
    'RequireValidShell off',
    'UseReverseDNS off',
    // mod_delay pads logins to hide timing; it only slows tests down.
    '<IfModule mod_delay.c>',
    '  DelayEngine off',
    '</IfModule>',
    `AuthUserFile ${p('passwd')}`,
    `AuthGroupFile ${p('group')}`,
    'AuthOrder mod_auth_file.c',
    'DefaultRoot ~',
    `PassivePorts ${o.passive[0]} ${o.passive[1]}`,
    'AllowOverwrite on',
    'AllowStoreRestart on',
    `SystemLog ${o.logFile}`,
    '<Limit SITE_CHMOD>',
    '  AllowAll',
    '</Limit>',
  ];
  if (o.tls) {
    lines.push(
      `ModulePath ${o.modules}`,
      'LoadModule mod_tls.c',
      'TLSEngine on',
      'TLSProtocol TLSv1.2 TLSv1.3',
      `TLSRSACertificateFile ${p('cert.pem')}`,
      `TLSRSACertificateKeyFile ${p('key.pem')}`,
      'TLSRequired off',
      'TLSOptions NoSessionReuseRequired',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** pure-ftpd command line: foreground, PureDB virtual users, chroot, optional TLS (`-Y 1`). */
export function pureFtpdArgs(
  o: Common & { pdb: string; minUid: number; quota: boolean },
): string[] {
  const args = [
    '-S',
    `127.0.0.1,${o.port}`,
    '-4',
    '-H',
    '-E',
    '-A',
    '-j',
    '-p',
    `${o.passive[0]}:${o.passive[1]}`,
    '-P',
    '127.0.0.1',
    '-l',
    `puredb:${o.pdb}`,
    '-u',
    String(o.minUid),
    '-g',
    join(o.base, 'pure-ftpd.pid'),
  ];
  // Quotas in the PureDB line are only enforced with -n (here: no global limit). Only then:
  // -n makes pure-ftpd keep a `.ftpquota` file in the user's root.
  if (o.quota) args.push('-n', '1000000:1000000');
  if (o.tls) args.push('-Y', '1', '-2', join(o.base, 'combined.pem'));
  return args;
}
