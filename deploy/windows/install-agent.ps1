<#
.SYNOPSIS
  Installs (or upgrades) the smtp-slots agent as a Windows service with WinSW or NSSM.

.DESCRIPTION
  Run in an elevated PowerShell on the front-end server. Needs Node.js 20+ (MSI from the
  Node.js project), the agent folder built on a build machine with
      pnpm --filter @smtp-slots/agent deploy --prod --legacy out\agent
  and ONE service wrapper you downloaded and verified yourself: WinSW (WinSW-x64.exe) or NSSM
  (nssm.exe). Nothing is downloaded by this script.

  Layout:
    %ProgramFiles%\smtp-slots\agent\            the agent (dist + node_modules)
    %ProgramFiles%\smtp-slots\smtp-slots-agent.exe/.xml   WinSW and its definition
    %ProgramData%\smtp-slots\agent.yaml         config (kept on upgrade)
    %ProgramData%\smtp-slots\spool\             the durable spool (kept on upgrade)
    %ProgramData%\smtp-slots\secrets\           secret files referenced as file:... in the config
    %ProgramData%\smtp-slots\logs\              service wrapper logs

.EXAMPLE
  .\install-agent.ps1 -AgentDir .\out\agent -WinSW .\WinSW-x64.exe
.EXAMPLE
  .\install-agent.ps1 -AgentDir .\out\agent -Nssm C:\tools\nssm.exe
#>
[CmdletBinding(DefaultParameterSetName = 'WinSW')]
param(
  [Parameter(Mandatory)] [string] $AgentDir,
  [Parameter(Mandatory, ParameterSetName = 'WinSW')] [string] $WinSW,
  [Parameter(Mandatory, ParameterSetName = 'Nssm')] [string] $Nssm,
  [string] $InstallDir = (Join-Path $env:ProgramFiles 'smtp-slots'),
  [string] $DataDir = (Join-Path $env:ProgramData 'smtp-slots'),
  [string] $ServiceName = 'smtp-slots-agent',
  [string] $Account = 'NT AUTHORITY\LocalService'
)
$ErrorActionPreference = 'Stop'

$node = Join-Path $env:ProgramFiles 'nodejs\node.exe'
if (-not (Test-Path $node)) { throw "Node.js not found at ${node}: install Node.js 20 or newer first." }
$major = [int]((& $node -p 'process.versions.node.split(".")[0]').Trim())
if ($major -lt 20) { throw "smtp-slots needs Node.js 20 or newer (found $major)." }
if (-not (Test-Path (Join-Path $AgentDir 'dist\cli.js'))) { throw "$AgentDir does not contain dist\cli.js." }

# Stop the running service first: it drains (finishes or requeues in-flight mail, releases slots).
$existing = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
if ($existing -and $existing.Status -ne 'Stopped') {
  Write-Host "Stopping $ServiceName (draining)..."
  Stop-Service -Name $ServiceName
  $existing.WaitForStatus('Stopped', [TimeSpan]::FromSeconds(90))
}

# Program files: replaced on every install/upgrade. Data: created once, never overwritten.
New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
$target = Join-Path $InstallDir 'agent'
if (Test-Path $target) { Remove-Item -Recurse -Force $target }
Copy-Item -Recurse -Path $AgentDir -Destination $target
foreach ($dir in @($DataDir, "$DataDir\spool", "$DataDir\secrets", "$DataDir\logs")) {
  New-Item -ItemType Directory -Force -Path $dir | Out-Null
}
$config = Join-Path $DataDir 'agent.yaml'
if (-not (Test-Path $config)) {
  Copy-Item (Join-Path $PSScriptRoot 'agent.yaml') $config
  Write-Host "Wrote ${config}: edit it (Redis URL, mailboxes) before starting the service."
}

# Only the service account and Administrators may touch the data folder (spool holds mail,
# secrets hold passwords). Inheritance from ProgramData (Users: read) is removed.
& icacls $DataDir /inheritance:r /grant:r "Administrators:(OI)(CI)F" "SYSTEM:(OI)(CI)F" "${Account}:(OI)(CI)M" | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls failed on $DataDir" }

# Validate before installing: bad config exits 2 with every problem listed.
& $node (Join-Path $target 'dist\cli.js') --config $config --check
if ($LASTEXITCODE -ne 0) { throw "The agent config $config is invalid (see above)." }

if ($PSCmdlet.ParameterSetName -eq 'WinSW') {
  $wrapper = Join-Path $InstallDir "$ServiceName.exe"
  Copy-Item $WinSW $wrapper -Force
  Copy-Item (Join-Path $PSScriptRoot 'smtp-slots-agent.xml') (Join-Path $InstallDir "$ServiceName.xml") -Force
  if (-not $existing) { & $wrapper install; if ($LASTEXITCODE -ne 0) { throw 'WinSW install failed' } }
  else { & $wrapper refresh }
  & $wrapper start
} else {
  $cli = Join-Path $target 'dist\cli.js'
  if (-not $existing) { & $Nssm install $ServiceName $node }
  & $Nssm set $ServiceName AppParameters "`"$cli`" --config `"$config`""
  & $Nssm set $ServiceName AppDirectory $DataDir
  & $Nssm set $ServiceName AppEnvironmentExtra 'NODE_ENV=production'
  & $Nssm set $ServiceName DisplayName 'smtp-slots agent'
  & $Nssm set $ServiceName Start SERVICE_DELAYED_AUTO_START
  & $Nssm set $ServiceName ObjectName $Account
  # NSSM's default is 1.5 s before it kills: the agent needs time to drain.
  & $Nssm set $ServiceName AppStopMethodConsole 60000
  & $Nssm set $ServiceName AppStopMethodWindow 0
  & $Nssm set $ServiceName AppExit Default Restart
  & $Nssm set $ServiceName AppExit 2 Exit  # 2 = bad config: restarting would not help
  & $Nssm set $ServiceName AppRestartDelay 5000
  & $Nssm set $ServiceName AppStdout "$DataDir\logs\agent.out.log"
  & $Nssm set $ServiceName AppStderr "$DataDir\logs\agent.err.log"
  & $Nssm set $ServiceName AppRotateFiles 1
  & $Nssm set $ServiceName AppRotateBytes 10485760
  & $Nssm start $ServiceName
}
Write-Host "$ServiceName is installed. Apps on this server send mail to 127.0.0.1:2525."
