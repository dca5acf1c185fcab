@rem Runs the agent with the node.exe beside it, wherever the HostProcess sandbox mounted the image.
@"%~dp0node.exe" "%~dp0dist\bin.js" %*
