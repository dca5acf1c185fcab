@rem Runs the agent with the node.exe beside it, wherever the HostProcess sandbox mounted the image.
@rem --max-semi-space-size=2: as the Linux image (docs/agent.md "Scale").
@"%~dp0node.exe" --max-semi-space-size=2 "%~dp0dist\bin.js" %*
